"""Rescanning an mbox that only grew: the messages scanned last time are not read again.

An unchanged mailbox file is reused whole by the scan like any file (same size, mtime,
inode). When an mbox has grown and its first bytes are exactly the file scanned last time
(SHA-256 of that prefix equals the previous item's sha256), mail was only appended. Each
message now in the file is matched to the previous scan's message of the same number by
its offset, Message-ID (digest) and length; those that match keep last scan's
items and findings (the message and everything inside it), the rest are read.

The new messages are read in the scanning process itself: they are a night's mail, and
each goes through the same ``process_member`` as any message.
"""
from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from ..classifiers.extractors.mail_mbox import (MboxMessage, mbox_members, message_id_digest,
                                                 split_mbox)
from ..connectors.filesystem import FileEntry
from ..connectors.mail import read_if_appended
from .scan_item import ItemContext, ItemOutcome, base_row, process_member

if TYPE_CHECKING:
    from .scan_previous import Previous as _Previous

_NUMBER = re.compile(r"#(\d+)")


def message_number(locator: str, top: str) -> int | None:
    m = _NUMBER.match(locator, len(top))
    return int(m.group(1)) if m else None


def _key(data: bytes, msg: MboxMessage) -> tuple[int, int, str]:
    """Offset, length (trailing blank lines aside: the separator written before the next
    message belongs to none) and Message-ID digest of one message."""
    end = msg.end
    while end > msg.body_start and data[end - 1] in (10, 13):
        end -= 1
    return msg.start, end - msg.start, message_id_digest(data, msg)


def scan_appended_mbox(previous: _Previous, entry: FileEntry, source_name: str, audience: str,
                       ctx: ItemContext) -> tuple[ItemOutcome, list[int]] | None:
    """(the outcome of the mbox and its new messages, rows of the previous items table to
    carry over) when ``entry`` is an mbox that only grew since the last scan, else None."""
    if previous.items is None or entry.kind != "file":
        return None
    locator = entry.locator
    idx = previous.by_locator.get(locator)
    if idx is None:
        return None
    old = previous.items.slice(idx, 1).select(["format", "status", "size", "sha256"]).to_pylist()[0]
    if old["format"] != "mbox" or old["status"] != "ok":
        return None
    data = read_if_appended(entry, old["size"], old["sha256"], ctx.max_bytes)
    if data is None:
        return None
    prefix = data[:old["size"]]
    old_start, old_msgs = split_mbox(prefix)
    if prefix[:old_start].strip(b"\xef\xbb\xbf \r\n\t"):
        return None  # text before the first message: read the whole file again
    _start, msgs = split_mbox(data)
    before = {m.number: _key(prefix, m) for m in old_msgs}
    kept = {m.number for m in msgs if before.get(m.number) == _key(data, m)}
    carried = [i for i in previous.children_of.get(locator, [])
               if message_number(previous.locators[i], locator) in kept]

    row = base_row(entry, source_name, audience, ctx.scan_id)
    row.set(format="mbox", sha256=hashlib.sha256(data).hexdigest(), change="changed")
    outcome = ItemOutcome(row, [], len(data))
    fresh = [m for m in msgs if m.number not in kept]
    for member in mbox_members(data, fresh):
        child = process_member(member, row, ctx, 1)
        for part in child.flatten():
            part.item.change = "new"
        outcome.children.append(child)
    return outcome, carried
