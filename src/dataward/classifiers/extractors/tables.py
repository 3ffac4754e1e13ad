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
from .base import TextBuilder

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


def table_rows(rows: Iterable[Sequence[object]], label_of: Callable[[int, int], str],
               builder: TextBuilder) -> None:
    """Add rows of cells to the builder: one line per row, one mark per cell."""
    it = iter(rows)
    head: list[list[str]] = []
    for row in it:
        head.append(["" if c is None else str(c) for c in row])
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    cues: dict[int, str] = {}
    header_index = next((i for i, r in enumerate(head) if looks_like_header(r)), None)
    for r_index, cells in enumerate(head):
        if r_index == header_index:
            cues = _cue_columns(cells)
        _add_row(cells, r_index, label_of, builder, {} if r_index == header_index else cues)
    for r_index, row in enumerate(it, start=len(head)):
        _add_row(["" if c is None else str(c) for c in row], r_index, label_of, builder, cues)


def _add_row(cells: list[str], r_index: int, label_of: Callable[[int, int], str],
             builder: TextBuilder, cues: dict[int, str]) -> None:
    filled = [(c, cell.strip()) for c, cell in enumerate(cells) if cell and cell.strip()]
    for k, (c_index, cell) in enumerate(filled):
        cue = cues.get(c_index)
        text = f"{cue}: {cell}" if cue and not _starts_with_cue(cell) else cell
        builder.add(text, label_of(r_index, c_index), end="\n" if k == len(filled) - 1 else "\t")


def _starts_with_cue(cell: str) -> bool:
    return any(cue.match(cell) for cue in _CUES)
