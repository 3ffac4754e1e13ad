"""Outlook data files (.pst, .ost) through libpff (libpff-python, LGPL-3.0).

Every item in every folder becomes a member named by its PST node id, so a message's
locator is ``<file locator>#<node id>`` (folder names can hold pupils' names, so they are
not used). Each message is rebuilt as a MIME message (subject, date, recipients, body,
attachments, attached messages) and read by the same code as an .eml. Items that are not
messages (contacts, distribution lists) keep their text properties as a plain body.

A PST "password" is only a checksum that Outlook compares; the file is not encrypted by
it, so a password-protected PST is read, and its item says that it has a password."""
from __future__ import annotations

import email.policy
import email.utils
import io
import re
from datetime import UTC, datetime
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

from .base import Member
from .mail_message import MailExtracted, decode_bytes

_PR_PST_PASSWORD = 0x67FF
_PR_EMAIL_ADDRESS, _PR_SMTP_ADDRESS, _PR_RECIPIENT_TYPE = 0x3003, 0x39FE, 0x0C15
_PR_ATTACH_LONG_FILENAME, _PR_ATTACH_FILENAME = 0x3707, 0x3704
_STRING_TYPES = (0x1E, 0x1F)
_PR_ATTACH_METHOD, _ATTACH_EMBEDDED_MSG = 0x3705, 5
_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e\xa0-\xff]\x00){4,}")  # Latin-1 text in UTF-16LE
_ASCII_RUN = re.compile(rb"[\x20-\x7e]{6,}")
_MAX_NESTING = 5
# A libpff object (file, folder, message, attachment): its binding has no type information.
Pff = Any
_POLICY = email.policy.default.clone(max_line_length=998)


def extract_pst(data: bytes) -> MailExtracted:
    try:
        import pypff
    except ImportError:
        return MailExtracted(status="unsupported",
                             reason="PST files need libpff-python: pip install libpff-python")
    pst = pypff.file()
    try:
        pst.open_file_object(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - libpff says only that it cannot open it
        return MailExtracted(status="error",
                             reason="not a readable PST/OST file (libpff cannot open it)")
    try:
        children = []
        for item in _items(pst.get_root_folder()):
            try:
                children.append(Member(str(item.identifier), _as_mime(item, 0), sep="#",
                                       mtime_ns=_ns(_item_date(item))))
            except Exception:  # noqa: BLE001 - one damaged item does not stop the rest
                children.append(Member(str(_ident(item)), None, sep="#", status="error",
                                       error="damaged PST item: cannot be read"))
        doc = MailExtracted(children=children)
        if _has_password(pst):
            doc.reason = ("the PST has an Outlook password: that is a checksum, not encryption; "
                          "its contents were read")
        return doc
    finally:
        pst.close()


def _ident(item: Pff) -> int | str:
    try:
        return int(item.identifier)
    except Exception:  # noqa: BLE001 - libpff raises OSError or IOError variants on damage
        return "unknown"


def _items(folder: Pff, depth: int = 0) -> Iterator[Pff]:
    if depth > 50:
        return
    for i in range(folder.number_of_sub_messages):
        try:
            yield folder.get_sub_message(i)
        except Exception:  # noqa: BLE001 - an unreadable entry in a folder index
            continue
    for i in range(folder.number_of_sub_folders):
        try:
            sub = folder.get_sub_folder(i)
        except Exception:  # noqa: BLE001 - an unreadable subfolder: the others are read
            continue
        yield from _items(sub, depth + 1)


def _has_password(pst: Pff) -> bool:
    try:
        store = pst.get_message_store()
        for rs in store.record_sets:
            for entry in rs.entries:
                if entry.entry_type == _PR_PST_PASSWORD:
                    return bool(entry.data_as_integer)
    except Exception:  # noqa: BLE001 - no readable message store: no password to report
        return False
    return False


def _ns(dt: datetime | None) -> int:
    if dt is None:
        return 0
    ns = int(dt.timestamp() * 1_000_000_000)
    return ns if ns > 0 else 0


def _item_date(item: Pff) -> datetime | None:
    for attr in ("client_submit_time", "delivery_time", "creation_time"):
        try:
            dt = getattr(item, attr, None)
        except Exception:  # noqa: BLE001 - a damaged date property: try the next one
            dt = None
        if isinstance(dt, datetime):
            return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def _strings(obj: Pff) -> dict[int, str]:
    out: dict[int, str] = {}
    try:
        for rs in obj.record_sets:
            for entry in rs.entries:
                if entry.value_type in _STRING_TYPES and entry.entry_type not in out:
                    try:
                        value = entry.data_as_string
                    except Exception:  # noqa: BLE001 - one damaged property does not lose the others
                        continue
                    if value:
                        out[entry.entry_type] = value
    except Exception:  # noqa: BLE001 - damaged record sets: the strings read so far stay
        pass
    return out


def _recipients(item: Pff) -> dict[str, list[str]]:
    kinds = {1: "To", 2: "Cc", 3: "Bcc"}
    out: dict[str, list[str]] = {"To": [], "Cc": [], "Bcc": []}
    recips = getattr(item, "recipients", None)
    if recips is None:
        return out
    for rs in recips.record_sets:
        addr, kind = "", 1
        for entry in rs.entries:
            try:
                if entry.entry_type == _PR_SMTP_ADDRESS or (entry.entry_type == _PR_EMAIL_ADDRESS and not addr):
                    addr = entry.data_as_string or addr
                elif entry.entry_type == _PR_RECIPIENT_TYPE:
                    kind = entry.data_as_integer & 0x3
            except Exception:  # noqa: BLE001 - one damaged recipient does not lose the others
                continue
        if "@" in addr and "\n" not in addr:
            out[kinds.get(kind, "To")].append(addr)
    return out


def _set(msg: EmailMessage, name: str, value: str) -> None:
    value = " ".join(value.split())
    if not value:
        return
    try:
        msg[name] = value
    except Exception:  # noqa: BLE001 - a header the email package will not take
        pass


def _as_mime(item: Pff, depth: int) -> bytes:
    msg = EmailMessage(policy=_POLICY)
    try:
        subject = getattr(item, "subject", None)
    except Exception:  # noqa: BLE001 - a damaged subject: the message is kept without one
        subject = None
    try:
        sender = getattr(item, "sender_name", None)
    except Exception:  # noqa: BLE001 - a damaged sender: the message is kept without one
        sender = None
    # Always a From line: with it the rebuilt message is recognised as mail by content.
    _set(msg, "From", sender or "unknown sender")
    _set(msg, "Subject", subject or "")
    date = _item_date(item)
    if date is not None:
        _set(msg, "Date", email.utils.format_datetime(date))
    for kind, addrs in _recipients(item).items():
        if addrs:
            _set(msg, kind, ", ".join(addrs))
    body, html = _body(item)
    if html and not body:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body or "")
    for i in range(getattr(item, "number_of_attachments", 0) or 0):
        att = item.get_attachment(i)
        names = _strings(att)
        name = names.get(_PR_ATTACH_LONG_FILENAME) or names.get(_PR_ATTACH_FILENAME) or ""
        if att.number_of_sub_items and depth < _MAX_NESTING:
            inner = _as_mime(att.get_sub_item(0), depth + 1)
            msg.add_attachment(inner, maintype="application", subtype="octet-stream",
                               filename=(name or f"message-{i + 1}") + ".eml")
            continue
        size = att.size or 0
        payload = att.read_buffer(size) if size else b""
        if _attach_method(att) == _ATTACH_EMBEDDED_MSG:
            # libpff's Python binding gives an embedded message only as raw property
            # bytes: its text strings are what can be read of it.
            msg.add_attachment(_strings_of(payload), filename=f"embedded-message-{i + 1}.txt")
            continue
        msg.add_attachment(payload, maintype="application", subtype="octet-stream",
                           filename=name or f"attachment-{i + 1}.bin")
    return msg.as_bytes()


def _attach_method(att: Pff) -> int:
    try:
        for rs in att.record_sets:
            for entry in rs.entries:
                if entry.entry_type == _PR_ATTACH_METHOD:
                    return int(entry.data_as_integer)
    except Exception:  # noqa: BLE001 - damaged attachment properties: read as a plain file
        pass
    return 0


def _strings_of(blob: bytes) -> str:
    """Runs of printable UTF-16LE and ASCII text in a binary blob (like ``strings -el``)."""
    found = [m.decode("utf-16-le") for m in _UTF16_RUN.findall(blob)]
    found += [m.decode("ascii") for m in _ASCII_RUN.findall(blob)]
    return "\n".join(found)


def _body(item: Pff) -> tuple[str, str]:
    """(plain text, HTML) of an item; RTF-only bodies become plain text; items that are
    not messages give their text properties."""
    if not hasattr(item, "plain_text_body"):
        return "\n".join(_strings(item).values()), ""
    for attr in ("plain_text_body", "html_body", "rtf_body"):
        try:
            raw = getattr(item, attr)
        except Exception:  # noqa: BLE001 - a body that does not decode: try the next one
            continue
        if not raw:
            continue
        text = raw if isinstance(raw, str) else decode_bytes(bytes(raw).rstrip(b"\x00"), "utf-8")
        if attr == "plain_text_body":
            return text, ""
        if attr == "html_body":
            return "", text
        from striprtf.striprtf import rtf_to_text
        try:
            return str(rtf_to_text(text, errors="ignore")), ""
        except Exception:  # noqa: BLE001 - damaged RTF gives no text, not an error
            return "", ""
    return "", ""
