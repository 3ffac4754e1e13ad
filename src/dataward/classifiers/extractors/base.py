"""What an extractor returns: the text of an item, and marks that say where in the item
each stretch of text came from (page, sheet and cell, paragraph, line)."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field


class UnsupportedFormat(Exception):
    """No extractor reads this format (yet): the item is recorded as `unsupported`."""


class EncryptedItem(Exception):
    """The item is encrypted: it cannot be read without a key, and that is the point."""


@dataclass
class Member:
    """An item inside a container item: an archive member, a message in a mailbox, an
    attachment of a message. Its locator is the parent's + ``sep`` + ``name``
    (``a.zip!/inner/b.docx``, ``mbox:///x.mbox#412``). ``data`` is None when the member
    was not read; then ``status`` and ``error`` say why (skipped at a cap, encrypted...)."""

    name: str
    data: bytes | None
    sep: str = "!/"
    status: str = "ok"
    error: str = ""
    size: int | None = None
    mtime_ns: int = 0
    audience: str | None = None  # None: the parent's audience


@dataclass
class Extracted:
    text: str = ""
    # (offset in text, label) in ascending offset order; the label of the mark at or
    # before a finding's offset is where the finding is.
    marks: list[tuple[int, str]] = field(default_factory=list)
    # Facts the extractor found that are not text (e.g. image metadata), as findings
    # the engine turns into fingerprints and previews: (entity_type, value, where).
    extra: list[tuple[str, str, str]] = field(default_factory=list)
    # Items inside this one (archive members, attachments, messages): each becomes an
    # item of its own, read and classified the same way.
    children: list[Member] = field(default_factory=list)
    # The item's own status when reading stopped short on purpose (a zip bomb cap: the
    # archive is `skipped` with the reason, though members read before the cap are items).
    status: str = "ok"
    reason: str = ""
    # When a photo was taken (camera date from EXIF, "YYYY-MM-DD HH:MM"), else "".
    taken: str = ""
    # Letters and digits in each page's text layer (PDF): a page with (almost) none may be
    # a picture of text, for text recognition to look at (classifiers/ocr_item.py).
    page_text_chars: list[int] = field(default_factory=list)

    def where(self, offset: int) -> str:
        if not self.marks:
            return f"offset {offset}"
        i = bisect.bisect_right(self._offsets, offset) - 1
        if i < 0:
            return f"offset {offset}"
        start, label = self.marks[i]
        return label

    @property
    def _offsets(self) -> list[int]:
        cached = self.__dict__.get("_offsets_cache")
        if cached is None or len(cached) != len(self.marks):
            cached = [m[0] for m in self.marks]
            self.__dict__["_offsets_cache"] = cached
        return cached


class TextBuilder:
    """Joins pieces of text with newlines and records a mark for each labelled piece."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.marks: list[tuple[int, str]] = []
        self.length = 0

    def add(self, text: str, label: str | None = None) -> None:
        if not text:
            return
        if label is not None and (not self.marks or self.marks[-1][1] != label):
            self.marks.append((self.length, label))
        self.parts.append(text)
        self.parts.append("\n")
        self.length += len(text) + 1

    def build(self) -> Extracted:
        return Extracted("".join(self.parts), self.marks)
