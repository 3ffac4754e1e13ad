"""One e-mail message (RFC 5322 / MIME, as in an .eml file or one message of an mbox):
the subject and body as text, the attachments as members, and the facts the mail policy
needs (recipient domains, date, damage found while parsing).

The address headers From, To, Cc, Bcc, Reply-To and Sender are part of the message's
text, one line each, so names and addresses in them are findings with ``where`` = the
header (``from``, ``to``...): a parent's home address in ``From:`` is personal data the
DPO must see. The risk score weighs them (``risk.mail_header_weight``, and the school's
own addresses ``risk.school_address_weight``). Recipients' domains also reach the policy
(``MessageInfo.recipient_domains``) for the ``external-mail`` audience.

Parsing uses the standard library's ``email`` package with the compat32 policy, the same
parser ``mailbox`` uses: it never raises on damaged input, it records defects instead, and
those become the item's reason. Reasons name the kind of damage, never message text.
"""
from __future__ import annotations

import codecs
import email
import email.header
import email.utils
import mimetypes
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message

from .base import Extracted, Member, TextBuilder

# Damage that means part of the message could not be read as the sender wrote it.
_STRUCTURAL_DEFECTS = {
    "StartBoundaryNotFoundDefect": "MIME start boundary missing",
    "CloseBoundaryNotFoundDefect": "MIME closing boundary missing (truncated?)",
    "MultipartInvariantViolationDefect": "multipart message without parts",
    "NoBoundaryInMultipartDefect": "multipart message without a boundary",
    "InvalidBase64PaddingDefect": "damaged base64 attachment or body",
    "InvalidBase64CharactersDefect": "damaged base64 attachment or body",
    "InvalidBase64LengthDefect": "damaged base64 attachment or body",
}
# Oddities that lose nothing (all the text is still read): noted, status stays ok.
_MINOR_DEFECTS = {"MissingHeaderBodySeparatorDefect": "header block not ended properly"}
_SAFE_CHARSET = re.compile(r"[A-Za-z0-9._:-]{1,40}")
_BAD_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f/\\!#]")
_PGP_ARMOR = b"-----BEGIN PGP MESSAGE-----"
_PGP_EXTS = (".gpg", ".pgp", ".asc")


@dataclass
class MessageInfo:
    """What the mail policy (pipelines/mail_policy.py) needs about one message."""

    recipient_domains: list[str] = field(default_factory=list)  # one entry per recipient
    date: datetime | None = None
    problems: list[str] = field(default_factory=list)  # damage: the item's reason
    damaged: bool = False  # structural damage: status error (what could be read was read)
    protected_attachments: int = 0


@dataclass
class MailExtracted(Extracted):
    """An ``Extracted`` with mail facts. ``info`` is None for a container (mbox, pst).
    ``status``/``reason``: the item's status when it is not ``ok`` (`unsupported`,
    `error`), or with status ``ok`` a note (e.g. a PST's password)."""

    info: MessageInfo | None = None
    status: str = "ok"
    reason: str = ""


def extract_eml(data: bytes) -> MailExtracted:
    return extract_message(email.message_from_bytes(data))


def decode_header_text(raw: object, problems: list[str] | None = None) -> str:
    """A header value as text: encoded words decoded; an unknown charset falls back to
    UTF-8 with replacement and is reported in ``problems``."""
    if raw is None:
        return ""
    if isinstance(raw, email.header.Header):
        raw = str(raw)
    raw = str(raw)
    if "=?" not in raw and raw.isascii():
        return raw  # no encoded words: nothing to decode
    try:
        chunks = email.header.decode_header(str(raw))
    except Exception:  # noqa: BLE001 - a damaged encoded word is text all the same
        return str(raw)
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        out.append(decode_bytes(chunk, charset, problems))
    return "".join(out)


def decode_bytes(data: bytes, charset: str | None, problems: list[str] | None = None) -> str:
    name = (charset or "us-ascii").strip().strip('"').lower()
    if name in ("us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        name = "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        if problems is not None:
            shown = name if _SAFE_CHARSET.fullmatch(name) else "?"
            note = f"unknown charset {shown!r} (decoded as UTF-8 with replacement)"
            if note not in problems:
                problems.append(note)
        name = "utf-8"
    try:
        return data.decode(name)
    except UnicodeDecodeError:
        if name == "utf-8":
            return data.decode("cp1252", errors="replace")
        return data.decode(name, errors="replace")
    except Exception:  # noqa: BLE001 - odd codecs (e.g. a non-text codec name)
        return data.decode("utf-8", errors="replace")


def message_date(msg: Message) -> datetime | None:
    raw = msg.get("date")
    if not raw:
        return None
    try:
        dt = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def recipient_domains(msg: Message) -> list[str]:
    values: list[str] = []
    for name in ("to", "cc", "bcc"):
        values.extend(str(v) for v in msg.get_all(name, []))
    domains = []
    for _display, addr in email.utils.getaddresses(values):
        if "@" in addr:
            domains.append(addr.rsplit("@", 1)[1].strip().strip(">").lower())
    return domains


# Headers that name people, in the order they are read, and their ``where`` label.
ADDRESS_HEADERS = ("from", "sender", "reply-to", "to", "cc", "bcc")


def address_lines(msg: Message, problems: list[str]) -> list[tuple[str, str]]:
    """(header, "Display Name <address>") for every address in the address headers."""
    lines = []
    for header in ADDRESS_HEADERS:
        values = [decode_header_text(v, problems) for v in msg.get_all(header, [])]
        for display, addr in email.utils.getaddresses(values):
            text = f"{display} <{addr}>" if display and addr else display or addr
            if text.strip():
                lines.append((header, text))
    return lines


def safe_name(raw: str, used: set[str], index: int, ctype: str) -> str:
    """An attachment name fit for a locator: no separators or control characters, short,
    and unique within its message."""
    name = _BAD_NAME_CHARS.sub("_", raw).strip(" .") if raw else ""
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:100] + dot + ext[:15]) if dot else name[:120]
    if not name:
        ext = mimetypes.guess_extension(ctype) or ".bin"
        name = f"attachment-{index}{ext}"
    base, n = name, 2
    while name.lower() in used:
        stem, dot, ext = base.rpartition(".")
        name = f"{stem}-{n}{dot}{ext}" if dot else f"{base}-{n}"
        n += 1
    used.add(name.lower())
    return name


def protection_of(name: str, data: bytes, ctype: str) -> str | None:
    """Why an attachment counts as protected (encrypted as a whole), or None."""
    low = name.lower()
    if ctype in ("application/pgp-encrypted", "application/pkcs7-mime",
                 "application/x-pkcs7-mime") or (low.endswith(".p7m") and "signature" not in ctype):
        return "protected: encrypted message part (S/MIME or OpenPGP)"
    if data.lstrip()[:len(_PGP_ARMOR)] == _PGP_ARMOR:
        return "protected: OpenPGP-encrypted"
    if low.endswith(_PGP_EXTS) and data[:1] and data[0] & 0x80:
        return "protected: OpenPGP-encrypted"
    if data[:4] == b"PK\x03\x04":
        return _zip_protection(data)
    return None


def _zip_protection(data: bytes) -> str | None:
    """Protected when every file in the zip is encrypted; a zip with plain entries is left
    to the zip extractor, which reads those."""
    import io
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            files = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, KeyError):
        return None
    if not files or not all(i.flag_bits & 0x1 for i in files):
        return None
    if all(i.compress_type == 99 for i in files):  # WinZip AES (AE-1/AE-2)
        return "protected: AES-encrypted zip"
    return "password-protected zip with weak legacy ZipCrypto (not acceptable as encryption)"


def _decode_transfer(data: bytes, cte: str) -> bytes:
    import base64
    import binascii
    import quopri
    try:
        if cte == "base64":
            return base64.b64decode(b"".join(data.split()), validate=False)
        return quopri.decodestring(data)
    except (binascii.Error, ValueError):
        return data


class _Walker:
    """Splits one message into body text and attachments, collecting defects."""

    def __init__(self) -> None:
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Member] = []
        self.names: list[str] = []
        self.used: set[str] = set()
        self.problems: list[str] = []
        self.damaged = False
        self.protected = 0

    def defects(self, part: Message) -> None:
        for d in getattr(part, "defects", []):
            name = type(d).__name__
            note = _STRUCTURAL_DEFECTS.get(name) or _MINOR_DEFECTS.get(name)
            if note:
                self.damaged = self.damaged or name in _STRUCTURAL_DEFECTS
                if note not in self.problems:
                    self.problems.append(note)

    def attach(self, raw_name: str, data: bytes, ctype: str, status: str = "ok",
               error: str = "") -> None:
        name = safe_name(raw_name, self.used, len(self.attachments) + 1, ctype)
        if raw_name:
            self.names.append(raw_name)
        if status == "ok":
            why = protection_of(name, data, ctype)
            if why:
                status, error = "encrypted", why
        if status == "encrypted":
            self.protected += 1
            self.attachments.append(Member(name, None, status=status, error=error, size=len(data)))
            return
        self.attachments.append(Member(name, data, status=status, error=error, size=len(data)))

    def walk(self, part: Message) -> None:
        self.defects(part)
        ctype = part.get_content_type()
        raw_name = part.get_filename() if not ctype.startswith("multipart/") else None
        filename = decode_header_text(raw_name, self.problems) if raw_name else ""
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            data = inner.as_bytes() if isinstance(inner, Message) else b""
            cte = str(part.get("content-transfer-encoding", "")).strip().lower()
            if cte in ("base64", "quoted-printable"):  # not allowed, but Outlook does it
                data = _decode_transfer(data, cte)
            self.attach(filename or f"message-{len(self.attachments) + 1}.eml", data, ctype)
            return
        if ctype == "multipart/encrypted":
            parts = part.get_payload()
            last = parts[-1] if isinstance(parts, list) and parts else None
            payload = last.get_payload(decode=True) if isinstance(last, Message) else None
            self.attach(filename or "encrypted.asc", payload if isinstance(payload, bytes) else b"",
                        ctype, "encrypted",
                        "protected: OpenPGP/MIME-encrypted message part")
            return
        if part.is_multipart():
            payload = part.get_payload()
            for sub in payload if isinstance(payload, list) else []:
                if isinstance(sub, Message):
                    self.walk(sub)
            return
        raw = part.get_payload(decode=True)  # bytes or None for a part that is not multipart
        data = raw if isinstance(raw, bytes) else b""
        self.defects(part)  # base64 damage is found while decoding
        disposition = str(part.get("content-disposition") or "").split(";")[0].strip().lower()
        if ctype.startswith("multipart/"):  # boundaries not found: the body is raw text
            self.plain.append(decode_bytes(data, part.get_content_charset(), self.problems))
            return
        if ctype in ("text/plain", "text/html") and not filename and disposition != "attachment":
            text = decode_bytes(data, part.get_content_charset(), self.problems)
            (self.plain if ctype == "text/plain" else self.html).append(text)
            return
        if ctype == "text/plain" and not data.strip():
            return
        if ctype.endswith("pkcs7-mime") and str(part.get_param("smime-type") or "").lower() in (
                "signed-data", "certs-only"):
            ctype = "application/pkcs7-signature"  # signed or a certificate: not encrypted
        self.attach(filename, data, ctype)


def extract_message(msg: Message) -> MailExtracted:
    """Subject, body and attachment names as text; attachments as members."""
    walker = _Walker()
    subject = decode_header_text(msg.get("subject"), walker.problems)
    walker.walk(msg)
    builder = TextBuilder()
    for header, line in address_lines(msg, walker.problems):
        builder.add(line, header)
    builder.add(subject, "subject")
    body = "\n".join(walker.plain)
    if not body.strip() and walker.html:
        from .text import extract_html
        body = "\n".join(extract_html(h.encode("utf-8")).text for h in walker.html)
    if body.lstrip().startswith(_PGP_ARMOR.decode()):
        walker.protected += 1
    builder.add(body, "body")
    builder.add("\n".join(walker.names), "attachment name")
    doc = builder.build()
    info = MessageInfo(recipient_domains(msg), message_date(msg), walker.problems,
                       walker.damaged, walker.protected)
    return MailExtracted(doc.text, doc.marks, children=walker.attachments, info=info)
