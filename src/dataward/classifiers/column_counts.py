"""A CSV counted as columns, for callers that keep only counts (the screening before
packaging): parsed by Arrow, identifier cells accepted in bulk, the rest read as before.

The result is the pieces ``text.csv_pieces`` would give, with the cells accepted in bulk
taken out of their identifier columns and counted instead (``Extracted.counted``):
- the text of each piece is the same text (the header row, then each row's non-empty
  cells outside the identifier columns, stripped, a tab between them), cut into pieces at
  the same rows (``PIECE_ROWS``, ``PIECE_CHARS``), so names, terms and identifiers in it
  are found exactly as before;
- an identifier column's cells that ``bulk_shapes`` accepts for the first entity its
  header names are counted (``column_check`` would have taken them for that entity);
  every other non-empty cell stays in the piece's ``Column`` for ``check_column``, which
  reads what it does not take as text, as before.
A file the Arrow reader declines (``read_arrow_csv``) is read by ``csv_pieces`` itself."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrow_arrays import indices, ints, joined, mask, offsets, strings
from .bulk_shapes import bulk_accepted
from .column_check import CONTEXT_BOOST, ColumnFindings
from .extractors.arrow_csv import ArrowCsv, cue_columns, read_arrow_csv
from .extractors.base import Column, Extracted, is_identifier_header
from .extractors.text import PIECE_CHARS, PIECE_ROWS, _col_letter, csv_pieces
from .recognizers import PATTERN_RECOGNIZERS, header_entities

_RECOGNIZER_NAMES = {cls.ENTITY: cls.__name__ for cls in PATTERN_RECOGNIZERS}


def counted_csv_pieces(data: bytes, delimiter: str | None = None, *,
                       threshold: float) -> Iterator[Extracted]:
    """``csv_pieces(data)`` with identifier cells counted in bulk where that is exact."""
    table = arrow_table(data, delimiter)
    if table is None:
        yield from csv_pieces(data, delimiter)
        return
    yield from _pieces(table, threshold)


def arrow_table(data: bytes, delimiter: str | None = None) -> ArrowCsv | None:
    """The CSV as Arrow columns, or None: it is read the streamed way. Besides what
    ``read_arrow_csv`` declines: a cue header over a text column ("Birth date"), whose
    cells the streamed reader writes after the cue."""
    table = read_arrow_csv(data, delimiter)
    if table is None:
        return None
    cues = cue_columns(table.header_raw)
    if any(i in cues for i, h in enumerate(table.header) if not (h and is_identifier_header(h))):
        return None
    return table


def counted_tsv_pieces(data: bytes, *, threshold: float) -> Iterator[Extracted]:
    return counted_csv_pieces(data, "\t", threshold=threshold)


# Formats counted this way, by the counting reader that takes the place of ``PIECES``'s.
COUNTED: dict[str, Callable[..., Iterator[Extracted]]] = {
    "csv": counted_csv_pieces, "tsv": counted_tsv_pieces}


def _identifier_cells(table: ArrowCsv, c: int, threshold: float
                      ) -> tuple[ColumnFindings | None, np.ndarray]:
    """The column's cells counted in bulk, and the rows (under the header, 0-based) of
    its other non-empty cells."""
    cells = table.columns[c]
    filled = np.diff(offsets(cells)) > 0
    entity = header_entities(table.header[c])[0]
    found = bulk_accepted(entity, cells)
    if found is None:
        return None, np.flatnonzero(filled)
    accepted, score = found
    boosted = round(min(1.0, score + CONTEXT_BOOST), 3)
    if boosted < threshold:
        return None, np.flatnonzero(filled)
    accepted &= filled
    n = int(accepted.sum())
    batch = ColumnFindings(entity, _RECOGNIZER_NAMES[entity], [boosted] * n, [], []) if n else None
    return batch, np.flatnonzero(filled & ~accepted)


def _pieces(table: ArrowCsv, threshold: float) -> Iterator[Extracted]:
    n = table.rows
    ids = [c for c, h in enumerate(table.header) if h and is_identifier_header(h)]
    counted: list[ColumnFindings] = []
    left: dict[int, np.ndarray] = {}
    for c in ids:
        batch, left[c] = _identifier_cells(table, c, threshold)
        if batch is not None:
            counted.append(batch)
    texts = [table.columns[c] for c in range(len(table.header)) if c not in left]
    cells, row_of, row_chars = _row_cells(texts, n)
    head = "\t".join(h for h in table.header if h)
    chars = np.concatenate([[len(head) + 1 if head else 0], row_chars]).cumsum()
    start = 0                      # the first row of a piece (0: the header row)
    while start <= n:
        base = chars[start - 1] if start else 0
        end = min(int(np.searchsorted(chars, base + PIECE_CHARS, side="left")),
                  start + PIECE_ROWS - 1 if start else PIECE_ROWS)
        stop = min(end, n) + 1     # rows start..stop-1 (file rows; data row r is r + 1)
        lo, hi = np.searchsorted(row_of, [max(start, 1) - 1, stop - 1])
        text = (head + "\n" if start == 0 and head else "") + joined(cells, int(lo), int(hi))
        columns = []
        for c in ids:
            rows = left[c]
            a, b = np.searchsorted(rows, [max(start, 1) - 1, stop - 1])
            mine = rows[a:b]
            columns.append(Column(table.header[c],
                                  table.columns[c].take(indices(mine)).to_pylist(),
                                  prefix=_col_letter(c), rows=(mine + 1).tolist()))
        yield Extracted(text, columns=columns, counted=counted if start == 0 else [])
        start = stop


def _row_cells(columns: list[pa.StringArray], n: int
               ) -> tuple[pa.StringArray, np.ndarray, np.ndarray]:
    """The non-empty cells of ``columns`` row by row, each followed by a tab or (the last
    of its row) a line break; the row of each; the characters each row adds."""
    if not columns or not n:
        return strings(b"", np.zeros(1)), np.zeros(0, dtype=np.int64), np.zeros(n)
    k = len(columns)
    flat = pa.concat_arrays(columns).take(
        indices((np.arange(n)[:, None] + np.arange(k)[None, :] * n).ravel()))
    lengths = ints(pc.utf8_length(flat))
    keep = lengths > 0
    row_of = np.repeat(np.arange(n), k)[keep]
    last = np.ones(len(row_of), dtype=bool)
    last[:-1] = row_of[:-1] != row_of[1:]
    ends = strings(np.where(last, 10, 9).astype(np.uint8).tobytes(), np.arange(len(last) + 1))
    nothing = strings(b"", np.zeros(len(last) + 1))   # the separator, as an array
    cells = pc.binary_join_element_wise(flat.filter(mask(keep)), ends, nothing)
    row_chars = np.bincount(row_of, weights=lengths[keep] + 1, minlength=n)
    return cells, row_of, row_chars
