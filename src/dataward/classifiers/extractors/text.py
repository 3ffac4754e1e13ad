"""Plain text, CSV/TSV, HTML and JSON.

Text-like formats are also read as a stream of pieces (``PIECES``): an item of any size
under ``scan.max_file_mb`` is decoded, parsed and classified a piece at a time, so a
worker holds the item's bytes and one piece, never the whole text, its table cells and
their findings at once (a 50 MB CSV on one line took 1.2 GB read whole)."""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from functools import lru_cache

from .base import Extracted, TextBuilder
from .tables import TableReader, table_rows


def decode(data: bytes) -> str:
    """Bytes to text: BOMs honoured, UTF-8 tried, Windows-1252 (Excel's CSV) as fallback."""
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:].decode("utf-8", errors="replace")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _line_marks(text: str) -> list[tuple[int, str]]:
    marks, pos, line = [(0, "line 1")], 0, 1
    while True:
        pos = text.find("\n", pos) + 1
        if pos <= 0 or pos >= len(text):
            return marks
        line += 1
        marks.append((pos, f"line {line}"))


def extract_text(data: bytes) -> Extracted:
    text = decode(data)
    return Extracted(text, _line_marks(text) if len(text) < 50_000_000 else [])


@lru_cache(maxsize=4096)
def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def cell_label(sheet: str | None, row: int, col: int) -> str:
    if sheet:
        return f"{sheet}!{_col_letter(col)}{row + 1}"
    return f"{_col_letter(col)}{row + 1}"


def extract_csv(data: bytes, delimiter: str | None = None) -> Extracted:
    text = decode(data)
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",\t;|").delimiter
        except csv.Error:
            delimiter = ","
    builder = TextBuilder()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        table_rows(reader, lambda r, c: cell_label(None, r, c), builder)
    except csv.Error:
        return extract_text(data)  # not really CSV: read it as text
    return builder.build()


def extract_tsv(data: bytes) -> Extracted:
    return extract_csv(data, "\t")


def extract_html(data: bytes) -> Extracted:
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError):
        return Extracted()
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    builder = TextBuilder()
    for i, block in enumerate(root.xpath("//body//text()") or root.xpath("//text()")):
        text = str(block).strip()
        if text:
            builder.add(text, f"text block {i + 1}")
    return builder.build()


def extract_json(data: bytes) -> Extracted:
    return extract_text(data)


# ---- streamed reading ----------------------------------------------------------------
PIECE_CHARS = 2_000_000    # text of one piece
PIECE_ROWS = 20_000        # CSV rows of one piece
# Context each piece shares with its neighbours: longer than any value a recognizer
# matches (an e-mail address is at most 254 characters) plus the cue window before it.
OVERLAP = 512
# A CSV whose lines run longer than this is read as text: the csv module holds a whole
# line and every cell of it in memory.
LONG_LINE = 1 << 20


class ReadAsText(Exception):
    """The CSV turned out not to be one: read the item again as plain text."""


def _codec(data: bytes) -> tuple[str, int]:
    """(codec, bytes of BOM to skip), as ``decode`` chooses, without decoding into memory."""
    if data[:3] == b"\xef\xbb\xbf":
        return "utf-8", 3
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16", 0
    if data.isascii():  # valid UTF-8, found in one C pass (decoding checks 15x slower)
        return "utf-8", 0
    check = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for i in range(0, len(data), PIECE_CHARS):
            check.decode(view[i:i + PIECE_CHARS])
        check.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252", 0
    return "utf-8", 0


def _decoded(data: bytes) -> Iterator[str]:
    codec, skip = _codec(data)
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    view = memoryview(data)[skip:]
    for i in range(0, len(view), PIECE_CHARS):
        chunk = decoder.decode(view[i:i + PIECE_CHARS], final=i + PIECE_CHARS >= len(view))
        if chunk:
            yield chunk


def text_pieces(data: bytes) -> Iterator[Extracted]:
    """Plain text in pieces of about ``PIECE_CHARS``, each with ``OVERLAP`` characters of
    its neighbours for context; lines are numbered across pieces."""
    chunks = _decoded(data)
    current = next(chunks, None)
    tail, base, line = "", 0, 1
    while current is not None:
        following = next(chunks, None)
        text = tail + current + (following[:OVERLAP] if following else "")
        first_line = line - tail.count("\n")
        marks = [(o, f"line {n + first_line - 1}") for o, n in _numbered_lines(text)]
        yield Extracted(text, marks, base=base - len(tail), keep_from=len(tail),
                        keep_to=len(tail) + len(current))
        line += current.count("\n")
        base += len(current)
        tail, current = current[-OVERLAP:], following


def _numbered_lines(text: str) -> Iterator[tuple[int, int]]:
    """(offset, 1-based number) of each line start in ``text``."""
    pos, n = 0, 1
    while True:
        yield pos, n
        pos = text.find("\n", pos) + 1
        if pos <= 0 or pos >= len(text):
            return
        n += 1


def _has_long_lines(data: bytes) -> bool:
    """Some stretch of ``LONG_LINE`` bytes holds no line break (so a line is longer)."""
    return any(data.find(b"\n", i, i + LONG_LINE) < 0 and data.find(b"\r", i, i + LONG_LINE) < 0
               for i in range(0, len(data) - LONG_LINE, LONG_LINE))


def sniff_delimiter(data: bytes, codec: str, skip: int) -> str:
    """The delimiter of a CSV (``csv.Sniffer`` on its first 8 KB; a comma when unsure)."""
    head = data[skip:skip + 8192].decode(codec, errors="ignore")
    try:
        return csv.Sniffer().sniff(head, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def csv_pieces(data: bytes, delimiter: str | None = None) -> Iterator[Extracted]:
    """A CSV in pieces of ``PIECE_ROWS`` rows, the header carried to every piece; raises
    ``ReadAsText`` (perhaps after some pieces) when the file does not parse as CSV."""
    if _has_long_lines(data):
        raise ReadAsText
    codec, skip = _codec(data)
    if delimiter is None:
        delimiter = sniff_delimiter(data, codec, skip)
    stream = io.TextIOWrapper(io.BytesIO(data[skip:] if skip else data), encoding=codec,
                              errors="replace", newline="")
    reader = TableReader(_csv_label, _col_letter)
    builder, rows = TextBuilder(), 0
    try:
        for r_index, row in enumerate(csv.reader(stream, delimiter=delimiter)):
            reader.row(r_index, row, builder)
            rows += 1 if r_index else 0   # a piece is PIECE_ROWS rows under the header
            if rows >= PIECE_ROWS or builder.length >= PIECE_CHARS:
                yield builder.build()
                builder, rows = TextBuilder(), 0
        reader.finish(builder)
    except csv.Error:
        raise ReadAsText from None
    yield builder.build()


def _csv_label(row: int, col: int) -> str:
    return f"{_col_letter(col)}{row + 1}"


def tsv_pieces(data: bytes) -> Iterator[Extracted]:
    return csv_pieces(data, "\t")


# Formats read as a stream of pieces (see the module docstring).
PIECES: dict[str, Callable[[bytes], Iterator[Extracted]]] = {
    "txt": text_pieces, "json": text_pieces, "csv": csv_pieces, "tsv": tsv_pieces}
