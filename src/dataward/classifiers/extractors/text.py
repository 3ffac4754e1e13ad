"""Plain text, CSV/TSV, HTML and JSON."""
from __future__ import annotations

import csv
import io

from .base import Extracted, TextBuilder
from .tables import looks_like_header, table_rows  # noqa: F401 - the table reader


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


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def cell_label(sheet: str | None, row: int, col: int) -> str:
    ref = f"{_col_letter(col)}{row + 1}"
    return f"{sheet}!{ref}" if sheet else ref


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
