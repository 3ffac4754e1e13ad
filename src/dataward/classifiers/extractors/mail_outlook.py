"""Microsoft's own mail formats: Outlook .msg files (extract-msg, the optional extra
``dataward[outlook]``: it is GPL-3.0, so the core does not depend on it) and TNEF
(winmail.dat, tnefparse).

A .msg is turned into a MIME message by extract-msg and read by the same code as an .eml,
so a message is classified the same way whichever format it came in. Contacts,
appointments and notes saved as .msg are read the same way (their text is personal data
too)."""
from __future__ import annotations

import logging
from typing import Any

from .base import Member, TextBuilder
from .mail_message import MailExtracted, decode_bytes, extract_message, safe_name

OUTLOOK_HINT = ("Outlook .msg files need the optional extra: pip install 'dataward[outlook]' "
                "(extract-msg, GPL-3.0)")

# extract-msg and its RTF helpers log details of what they parse (subjects, names):
# nothing of theirs may reach dataward's logs.
for _name in ("extract_msg", "RTFDE", "tnefparse", "compressed_rtf"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)


def extract_msg_file(data: bytes) -> MailExtracted:
    try:
        import extract_msg
    except ImportError:
        return MailExtracted(status="unsupported", reason=OUTLOOK_HINT)
    try:
        msg = extract_msg.openMsg(data, delayAttachments=False)
    except Exception as exc:  # noqa: BLE001 - a damaged .msg is an item with a reason
        return MailExtracted(status="error",
                             reason=f"damaged Outlook .msg: cannot be opened ({type(exc).__name__})")
    try:
        from extract_msg.msg_classes import MessageBase
        if not isinstance(msg, MessageBase):  # an OLE file but no Outlook item
            return MailExtracted(status="error",
                                 reason="damaged Outlook .msg: cannot be read (not an Outlook item)")
        try:
            mime = msg.asEmailMessage()
        except Exception as exc:  # noqa: BLE001 - extract-msg fails in many ways on a damaged item
            return MailExtracted(status="error",
                                 reason=f"damaged Outlook .msg: cannot be read ({type(exc).__name__})")
        doc = extract_message(mime)
        if doc.info is not None and doc.info.date is None:
            try:
                doc.info.date = msg.date
            except Exception:  # noqa: BLE001 - an odd date is no reason to lose the message
                pass
        return doc
    finally:
        try:
            msg.close()
        except Exception:  # noqa: BLE001 - closing a damaged item must not hide its result
            pass


def extract_tnef(data: bytes) -> MailExtracted:
    """winmail.dat: its body (plain, HTML or RTF) as text, its attachments as members."""
    try:
        import tnefparse
    except ImportError:
        return MailExtracted(status="unsupported", reason="TNEF (winmail.dat) needs tnefparse")
    try:
        tnef = tnefparse.TNEF(data)
    except Exception as exc:  # noqa: BLE001 - tnefparse fails in many ways on damaged input
        return MailExtracted(status="error", reason=f"damaged TNEF (winmail.dat): {type(exc).__name__}")
    builder = TextBuilder()
    body = _tnef_body(tnef)
    builder.add(body, "body")
    children: list[Member] = []
    used: set[str] = set()
    names: list[str] = []
    for i, att in enumerate(tnef.attachments or [], start=1):
        try:
            raw = att.long_filename() or ""
        except Exception:  # noqa: BLE001 - a damaged name: the attachment is kept without one
            raw = ""
        payload = bytes(att.data or b"")
        names.append(raw)
        children.append(Member(safe_name(raw, used, i, "application/octet-stream"), payload,
                               size=len(payload)))
    builder.add("\n".join(n for n in names if n), "attachment name")
    doc = builder.build()
    return MailExtracted(doc.text, doc.marks, children=children)


def _tnef_body(tnef: Any) -> str:  # a tnefparse.TNEF (no type information)
    for attr in ("body", "htmlbody"):
        try:
            value = getattr(tnef, attr)
        except Exception:  # noqa: BLE001 - a body that does not decode: try the next one
            continue
        if value:
            text = value if isinstance(value, str) else decode_bytes(bytes(value), "utf-8")
            if attr == "htmlbody":
                from .text import extract_html
                text = extract_html(text.encode("utf-8")).text
            return text
    try:
        rtf = tnef.rtfbody
    except Exception:  # noqa: BLE001 - compressed RTF that does not decompress
        return ""
    if not rtf:
        return ""
    from striprtf.striprtf import rtf_to_text
    try:
        return str(rtf_to_text(decode_bytes(bytes(rtf), "cp1252"), errors="ignore"))
    except Exception:  # noqa: BLE001 - damaged RTF gives no text, not an error
        return ""
