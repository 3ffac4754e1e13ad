"""mbox files (Google Takeout, Thunderbird, Apple Mail exports): every message a member.

A message starts at a line beginning ``From `` (the envelope line), as Python's
``mailbox.mbox`` splits them; the envelope line is dropped, so each member is a plain
RFC 5322 message that the eml extractor reads. Members are named by their number, from 1,
so a message's locator is ``<file locator>#<n>``.

Splitting works on the bytes with one regular expression; no message is parsed here
beyond a look at its Date and Message-ID lines (the member's time, and the key the
incremental rescan of an appended mbox matches on)."""
from __future__ import annotations

import email.utils
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC

from .base import Member
from .mail_message import MailExtracted
from .text import decode

_FROM = re.compile(rb"^From ", re.M)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_DATE = re.compile(rb"^Date:[ \t]*([^\r\n]*)", re.M | re.I)
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*([^\r\n]*)", re.M | re.I)
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class MboxMessage:
    number: int      # 1-based, the member name
    start: int       # offset of the envelope ("From ") line
    body_start: int  # offset of the first header line (the member's first byte)
    end: int         # offset just past the message

    def header_block(self, data: bytes) -> tuple[int, int]:
        m = _HEADER_END.search(data, self.body_start, self.end)
        return self.body_start, (m.start() if m else self.end)


def split_mbox(data: bytes) -> tuple[int, list[MboxMessage]]:
    """(end of any text before the first message, the messages in file order)."""
    first = len(_BOM) if data.startswith(_BOM) else 0
    starts = [m.start() for m in _FROM.finditer(data)]
    if first and data.startswith(b"From ", first):
        starts.insert(0, first)
    messages = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        nl = data.find(b"\n", start, end)
        body_start = end if nl < 0 else nl + 1
        messages.append(MboxMessage(i + 1, start, body_start, end))
    return (starts[0] if starts else len(data)), messages


def message_id_digest(data: bytes, msg: MboxMessage) -> str:
    """A digest of the message's Message-ID header ("" when it has none). The id itself
    can name a person's host or address, so only its digest is kept."""
    s, e = msg.header_block(data)
    m = _MESSAGE_ID.search(data, s, e)
    if not m or not m.group(1).strip():
        return ""
    return hashlib.sha256(m.group(1).strip()).hexdigest()[:32]


def _date_ns(data: bytes, msg: MboxMessage) -> int:
    s, e = msg.header_block(data)
    m = _DATE.search(data, s, e)
    if not m:
        return 0
    try:
        dt = email.utils.parsedate_to_datetime(m.group(1).decode("latin-1"))
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0
    if dt is None:
        return 0
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    ns = int(dt.timestamp() * 1_000_000_000)
    return ns if ns > 0 else 0


def mbox_members(data: bytes, messages: list[MboxMessage]) -> list[Member]:
    return [Member(str(m.number), data[m.body_start:m.end], sep="#", mtime_ns=_date_ns(data, m))
            for m in messages]


def extract_mbox(data: bytes) -> MailExtracted:
    preamble_end, messages = split_mbox(data)
    doc = MailExtracted(children=mbox_members(data, messages))
    preamble = data[:preamble_end].strip()
    if preamble.startswith(_BOM):
        preamble = preamble[len(_BOM):].strip()
    if preamble:
        # Text before the first message is scanned too; it may be a damaged message.
        doc.text = decode(preamble)
        doc.marks = [(0, "before the first message")]
    if not messages:
        doc.status, doc.reason = "error", "not an mbox: no line starts a message with 'From '"
    elif preamble:
        doc.reason = f"{len(preamble)} bytes before the first message (scanned as text)"
    return doc
