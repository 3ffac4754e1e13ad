"""A CSV read as Arrow columns by ``pyarrow.csv`` (C++), for the screening that wants
counts only (``classifiers.column_counts``).

It must read exactly what ``text.csv_pieces`` reads (Python's ``csv`` module, the same
decoding and delimiter), or not at all: ``read_arrow_csv`` returns None for any file
whose reading could differ, and the caller reads it the streamed way. So it declines:
quotes that are not plain quoted fields (the two readers differ on a quote inside a field
or text after a closing quote); a blank line (Python reads an empty row, Arrow skips
it); ragged rows; a NUL; a line the streamed reader reads as text (``LONG_LINE``); a
field over Python's ``csv.field_size_limit``; a first row that is not the header row
``TableReader`` would choose; and a file over ``MAX_BYTES``, which the streamed reader
holds a piece at a time. Nothing here says what a cell holds; Arrow's errors, which may
quote a row, are never passed on."""
from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .tables import _CUES, looks_like_header
from .text import _codec, _has_long_lines, sniff_delimiter

# What ``str.strip()`` strips (``TableReader`` strips every cell).
_QUOTE = ord('"')
# The whole file is held as columns (about five times its size with the text built from
# them): larger files are read the streamed way, a piece at a time, within the worker's
# memory limit.
MAX_BYTES = 32 << 20
WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def _lines(raw: bytes) -> int:
    """Lines as Python's csv module counts them (a line ends at \\n, \\r or \\r\\n)."""
    n = raw.count(b"\n")
    cr = raw.count(b"\r")
    if cr:
        n += cr - raw.count(b"\r\n")
    return n + (raw[-1:] not in (b"\n", b"\r"))


@dataclass
class ArrowCsv:
    header: list[str]          # the header row's cells, stripped
    header_raw: list[str]      # as read
    columns: list[pa.StringArray]  # each column's cells under the header, stripped
    rows: int                  # rows under the header


def _quotes_agree(raw: bytes, delimiter: bytes) -> np.ndarray | None:
    """Where the quotes are, when each opens a field (at a field's start) or closes one
    (before a delimiter, a line break or the end) or is doubled inside one: quoting both
    readers read alike. None otherwise (a quote inside an unquoted field, text after a
    closing quote, a field left open at the end)."""
    data = np.frombuffer(raw, dtype=np.uint8)
    at = np.flatnonzero(data == _QUOTE)
    if len(at) % 2:
        return None
    ends = np.array([delimiter[0], 10, 13], dtype=np.uint8)
    before = np.isin(data[np.maximum(at - 1, 0)], ends) | (at == 0)
    after = np.isin(data[np.minimum(at + 1, len(data) - 1)], ends) | (at == len(data) - 1)
    doubled_before = np.zeros(len(at), dtype=bool)
    doubled_before[1:] = at[1:] == at[:-1] + 1
    doubled_after = np.zeros(len(at), dtype=bool)
    doubled_after[:-1] = doubled_before[1:]
    opens, closes = slice(0, None, 2), slice(1, None, 2)
    if not (before[opens] | doubled_before[opens]).all():
        return None
    if not (after[closes] | doubled_after[closes]).all():
        return None
    return at


def _blank_line_outside(raw: bytes, quotes: np.ndarray) -> bool:
    """A line with nothing on it, outside quoted fields (Python's csv reads an empty row
    there; Arrow skips it)."""
    if raw[:1] in (b"\n", b"\r"):
        return True
    for two in (b"\n\n", b"\r\r", b"\n\r"):
        at = raw.find(two)
        while at >= 0:
            if np.searchsorted(quotes, at) % 2 == 0:   # an even number of quotes before it
                return True
            at = raw.find(two, at + 1)
    return False


def read_arrow_csv(data: bytes, delimiter: str | None = None) -> ArrowCsv | None:
    """``data`` as stripped string columns under its header row, or None when the streamed
    reader might read it differently (see the module docstring)."""
    if len(data) > MAX_BYTES or _has_long_lines(data):
        return None
    codec, skip = _codec(data)
    if delimiter is None:
        delimiter = sniff_delimiter(data, codec, skip)
    raw = data[skip:] if codec == "utf-8" else data[skip:].decode(
        codec, errors="replace").encode("utf-8")
    if not raw or b"\0" in raw:
        return None
    quoted = b'"' in raw
    if quoted:
        quotes = _quotes_agree(raw, delimiter.encode())
        if quotes is None or _blank_line_outside(raw, quotes):
            return None
    end = len(raw)
    for eol in (b"\n", b"\r"):
        at = raw.find(eol)
        end = at if 0 <= at < end else end
    width = raw[:end].count(delimiter.encode()) + 1   # at least the columns there are
    try:
        table = pcsv.read_csv(
            pa.py_buffer(raw),
            read_options=pcsv.ReadOptions(autogenerate_column_names=True, use_threads=False),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char='"' if quoted else False,
                                            double_quote=True, newlines_in_values=quoted),
            convert_options=pcsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowException:  # its message may quote a row: never passed on
        return None   # ragged rows, a row longer than a block: the streamed reader reads it
    if not quoted and table.num_rows != _lines(raw):
        return None   # Arrow skipped a blank line (Python's csv reads it as an empty row)
    width = table.num_columns
    if table.num_rows == 0 or any(t != pa.string() for t in table.schema.types):
        return None
    columns = [table.column(i).combine_chunks() for i in range(width)]
    limit = csv.field_size_limit()
    if any(len(c) and pc.max(pc.binary_length(c)).as_py() >= limit   # bytes >= characters
           and pc.max(pc.utf8_length(c)).as_py() >= limit for c in columns):
        return None   # Python's csv stops at such a field: the item is read as text
    header_raw = [c[0].as_py() for c in columns]
    if not looks_like_header(header_raw):
        return None
    return ArrowCsv([h.strip() for h in header_raw], header_raw,
                    [pc.utf8_trim(c.slice(1), characters=WHITESPACE) for c in columns],
                    table.num_rows - 1)


def cue_columns(header_raw: list[str]) -> set[int]:
    """Columns ``TableReader`` writes with their header as a cue before each cell."""
    return {i for i, h in enumerate(header_raw) if h.strip() and any(c.search(h) for c in _CUES)}
