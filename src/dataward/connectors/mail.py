"""Mail exports as the scan meets them.

A mail source (``kind: mbox | eml | msg | pst``) is a file or a folder of files, walked by
the same walker as a share (``connectors/filesystem.walk``: no links followed, never out
of the root). What each file is comes from its content, not its kind or its name
(``classifiers/sniff.py`` with ``extractors/mail_sniff.py``): an mbox, an .eml or an
Outlook .msg saved without an extension is still read as mail, on a share or in an ad-hoc
``dataward scan PATH``; a ``.pst`` that is not a PST is an item with status ``error``.

Items and locators: a message in an mbox is ``file:///exports/head.mbox#412`` (its
number, from 1), a message in a PST ``file:///exports/staff.pst#2097188`` (its node id),
an attachment ``...#412!/report.docx``, a message attached to a message
``...#412!/fwd.eml``, and so on down. The ``file://`` scheme stays: it names where the
bytes are, and everything that follows a file (rescans, moves, retention) keys on it.

This module holds the one piece of mail I/O beyond reading a file: checking that an
mbox only grew, so the rescan can skip the messages it has already scanned."""
from __future__ import annotations

import hashlib

from .filesystem import FileEntry, read_file

MAIL_SOURCE_KINDS = ("mbox", "eml", "msg", "pst")


def read_if_appended(entry: FileEntry, old_size: int, old_sha256: str, limit: int) -> bytes | None:
    """The file's bytes when its first ``old_size`` bytes are exactly the file that was
    scanned before (same SHA-256) and it has grown: mail was only appended. None when it
    was rewritten, shrank, or cannot be read now (the normal read reports why)."""
    if entry.kind != "file" or entry.size <= old_size or not old_sha256 or entry.size > limit:
        return None
    try:
        data = read_file(entry, limit)
    except (OSError, ValueError):
        return None
    if hashlib.sha256(memoryview(data)[:old_size]).hexdigest() != old_sha256:
        return None
    return data


def is_mail_source(kind: str) -> bool:
    return kind in MAIL_SOURCE_KINDS


__all__ = ["MAIL_SOURCE_KINDS", "is_mail_source", "read_if_appended"]
