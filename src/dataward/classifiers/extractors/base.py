"""What an extractor returns: the text of an item, and marks that say where in the item
each stretch of text came from (page, sheet and cell, paragraph, line)."""
from __future__ import annotations

import bisect
from collections.abc import Callable
from functools import lru_cache
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..column_check import ColumnFindings


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
class Column:
    """The cells of one table column whose header names an identifier (``UPN``, ``NHS
    Number``, ``DOB``...). The engine checks them as a column (each cell whole against
    the recognizers the header names) instead of searching text; a cell that is not
    exactly one such value is read as text after all.

    Where each cell is: its own label in ``given`` (``table 2 B7``), or, when the table's
    labels are a column prefix and the row number (``B7``, ``Sheet1!B7``), ``prefix`` and
    the 0-based ``rows``, so a dense column does not make a label string per cell."""

    header: str
    values: list[str] = field(default_factory=list)
    given: list[str] = field(default_factory=list)
    prefix: str | None = None
    rows: list[int] = field(default_factory=list)
    # Cells no recognizer took as one value (set by the engine; they were read as text).
    unread: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        """Where each cell is (``B7``, ``Sheet!C3``)."""
        if self.prefix is None:
            return self.given
        return [f"{self.prefix}{r + 1}" for r in self.rows]

    def label(self, i: int) -> str:
        return self.given[i] if self.prefix is None else f"{self.prefix}{self.rows[i] + 1}"


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
    # Table columns of identifiers, kept out of ``text`` (see ``Column``).
    columns: list[Column] = field(default_factory=list)
    # A piece of a streamed item: ``text`` starts at offset ``base`` of the whole item,
    # and only matches starting in [keep_from, keep_to) of this piece belong to it (the
    # rest of the piece is overlap with its neighbours, there for context).
    base: int = 0
    keep_from: int = 0
    keep_to: int | None = None
    # Identifier cells already counted in bulk (``classifiers.column_counts``, counts only):
    # findings with no previews, fingerprints or places, passed on with the column findings.
    counted: list[ColumnFindings] = field(default_factory=list)

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
        self.columns: dict[object, Column] = {}
        self._plan_header: list[str] | None = None
        self._plan: list[Column | None] = []

    def columns_for(self, header: list[str],
                    prefix_of: Callable[[int], str] | None = None) -> list[Column | None]:
        """For each header cell, the column its cells go to (None: they are text).
        Worked out once per header row, not once per row. ``prefix_of(c)``: the label of
        a cell in column ``c`` is this prefix and the row number (see ``Column``)."""
        if self._plan_header is not header:
            self._plan_header = header
            self._plan = [self._column_of(h, None if prefix_of is None else prefix_of(i))
                          if h else None for i, h in enumerate(header)]
        return self._plan

    def _column_of(self, header: str, prefix: str | None = None) -> Column | None:
        if not is_identifier_header(header):
            return None
        key = header if prefix is None else (header, prefix)
        col = self.columns.get(key)
        if col is None:
            col = self.columns[key] = Column(header, prefix=prefix)
        return col

    def cell(self, header: str, value: str, label: str) -> None:
        """A table cell under ``header``: kept in a column when the header names an
        identifier, else added as text with its header as the cue ("DOB: 12/03/2014")."""
        if is_identifier_header(header):
            col = self.columns.get(header)
            if col is None:
                col = self.columns[header] = Column(header)
            col.values.append(value)
            col.given.append(label)
        else:
            self.add(f"{header}: {value}", label)

    def add(self, text: str, label: str | None = None, end: str = "\n") -> None:
        """Add ``text`` and ``end`` (a tab between the cells of one table row)."""
        if not text:
            return
        if label is not None and (not self.marks or self.marks[-1][1] != label):
            self.marks.append((self.length, label))
        self.parts.append(text)
        self.parts.append(end)
        self.length += len(text) + len(end)

    def add_row(self, cells: list[tuple[str, str]]) -> None:
        """One table row: each (text, label) a cell of non-empty text, a tab between
        them and a line break after (``add`` for each, in one call)."""
        parts, marks, length = self.parts, self.marks, self.length
        last = len(cells) - 1
        for k, (text, label) in enumerate(cells):
            if not marks or marks[-1][1] != label:
                marks.append((length, label))
            parts.append(text)
            parts.append("\n" if k == last else "\t")
            length += len(text) + 1
        self.length = length

    def build(self) -> Extracted:
        return Extracted("".join(self.parts), self.marks, columns=list(self.columns.values()))


@lru_cache(maxsize=1024)
def is_identifier_header(header: str) -> bool:
    """Does a table header name an identifier a recognizer validates (its context words:
    "UPN", "NHS Number", "DOB", "Parent Email", ...)?"""
    from ..recognizers import header_entities  # the recognizers load Presidio: only now
    return bool(header_entities(header))
