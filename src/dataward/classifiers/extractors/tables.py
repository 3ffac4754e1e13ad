"""Tables (spreadsheets, CSV, Word and slide tables) as text the recognizers can read.

Each row is one line, its cells separated by tabs, each cell marked with its own place
(``Sheet!B7``). So a forename and a surname in neighbouring cells read as one name, and a
two-column key/value table ("Pupil | Layla White", "DOB | 12/03/2014") reads as the pairs
it holds. Text is never repeated: a header such as ``FSM`` is read once, not before every
cell under it (one term in the sheet is one finding). The exception is a header that is
a cue a recognizer needs just before a value ("DOB", "Date of birth", "Passport"): it is
put before each cell of its column, and a cue is not a finding itself.

The header row is the first row with two or more cells of short, digit-free text among
the first rows, so a header under a title row ("Class 3 list, Autumn 2024") is found."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from .. import cues
from .base import Column, TextBuilder

MAX_HEADER_CHARS = 40
# Rows looked at for the header row (title rows, blank rows and notes come first).
HEADER_SEARCH_ROWS = 10
_CUES: tuple[re.Pattern[str], ...] = cues.ALL


def looks_like_header(row: Sequence[str]) -> bool:
    cells = [c.strip() for c in row if c.strip()]
    return len(cells) >= 2 and all(
        len(c) <= MAX_HEADER_CHARS and not any(ch.isdigit() for ch in c) for c in cells)


def _cue_columns(header: Sequence[str]) -> dict[int, str]:
    return {i: h.strip() for i, h in enumerate(header)
            if h.strip() and any(cue.search(h) for cue in _CUES)}


class TableReader:
    """Rows of one table, fed one at a time (so a CSV streamed in pieces reads the same as
    one read whole): the header row is looked for among the first rows, then each row is
    one line of the builder it is given. Cells under a header that names an identifier
    (UPN, NHS number, date of birth...) go to the builder's identifier columns, checked
    cell by cell, not into the text (``TextBuilder.columns_for``)."""

    def __init__(self, label_of: Callable[[int, int], str],
                 column_prefix: Callable[[int], str] | None = None) -> None:
        """``column_prefix(c)``, when given: ``label_of(r, c)`` is this prefix followed by
        ``r + 1`` (``B7``), so identifier columns keep row numbers, not labels."""
        self.label_of = label_of
        self.column_prefix = column_prefix
        self.header: list[str] | None = None
        self.cues: dict[int, str] = {}
        self._pending: list[tuple[int, list[str]]] = []
        self._searching = True

    def row(self, r_index: int, row: Sequence[object], builder: TextBuilder) -> None:
        cells = ["" if c is None else str(c) for c in row]
        if self._searching:
            self._pending.append((r_index, cells))
            if looks_like_header(cells) or len(self._pending) >= HEADER_SEARCH_ROWS:
                self._settle(builder)
            return
        self._add(r_index, cells, builder)

    def finish(self, builder: TextBuilder) -> None:
        if self._searching:
            self._settle(builder)

    def _settle(self, builder: TextBuilder) -> None:
        self._searching = False
        pending, self._pending = self._pending, []
        at = next((i for i, (_, cells) in enumerate(pending) if looks_like_header(cells)), None)
        for i, (r_index, cells) in enumerate(pending):
            if at is not None and i == at:
                self.header = [c.strip() for c in cells]
                self.cues = _cue_columns(cells)
                _add_row(cells, r_index, self.label_of, builder, {})
            elif at is not None and i > at:
                self._add(r_index, cells, builder)
            else:
                _add_row(cells, r_index, self.label_of, builder, {})

    def _add(self, r_index: int, cells: list[str], builder: TextBuilder) -> None:
        columns = builder.columns_for(self.header, self.column_prefix) if self.header else None
        _add_row(cells, r_index, self.label_of, builder, self.cues, columns)


def table_rows(rows: Iterable[Sequence[object]], label_of: Callable[[int, int], str],
               builder: TextBuilder) -> None:
    """Add rows of cells to the builder: one line per row, one mark per cell."""
    reader = TableReader(label_of)
    for r_index, row in enumerate(rows):
        reader.row(r_index, row, builder)
    reader.finish(builder)


def _add_row(cells: list[str], r_index: int, label_of: Callable[[int, int], str],
             builder: TextBuilder, cues: dict[int, str],
             columns: Sequence[Column | None] | None = None) -> None:
    filled = []
    n_columns = len(columns) if columns is not None else 0
    for c_index, cell in enumerate(cells):
        if not cell:
            continue
        cell = cell.strip()
        if not cell:
            continue
        col = columns[c_index] if c_index < n_columns else None  # type: ignore[index]
        if col is not None:
            col.values.append(cell)
            if col.prefix is None:
                col.given.append(label_of(r_index, c_index))
            else:
                col.rows.append(r_index)
            continue
        filled.append((c_index, cell))
    if cues:
        filled = [(c_index, f"{cues[c_index]}: {cell}" if c_index in cues
                   and not _starts_with_cue(cell) else cell) for c_index, cell in filled]
    if filled:
        builder.add_row([(cell, label_of(r_index, c_index)) for c_index, cell in filled])


def _starts_with_cue(cell: str) -> bool:
    return any(cue.match(cell) for cue in _CUES)
