"""Excel (.xlsx, .xlsm): the cells through calamine, the rest of the workbook through
openpyxl and the package's XML; the encryption guard of every OOXML file. Word (.docx)
is read from its XML in ``word.py``."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from .base import EncryptedItem, Extracted, TextBuilder
from .embedded import embedded_members
from .tables import table_rows
from .text import cell_label
from .workbook_parts import add_workbook_parts

# Workbooks up to this size have their cells read by calamine (a 32 MB workbook is about
# 4 million cells, some 150 MB held at once); larger ones are streamed by openpyxl.
FAST_MAX_BYTES = 32 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _guard(data: bytes) -> None:
    # An encrypted OOXML file is an OLE2 container holding EncryptedPackage.
    if data[:8] == OLE_MAGIC and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k" in data:
        raise EncryptedItem("encrypted Office document")


def _as_openpyxl(value: object) -> object:
    """A cell's value from calamine as openpyxl (``data_only``) gives it, so the text the
    recognizers read is the same: no value is None, a whole number an int (Excel writes
    those without a point, and openpyxl reads them as int), a date a datetime."""
    if value == "":
        return None
    if type(value) is float and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if type(value) is date:
        return datetime(value.year, value.month, value.day)
    return value


def _fast_rows(data: bytes) -> Callable[[str], Iterator[tuple[object, ...]] | None] | None:
    """Each sheet's cell values through calamine (a Rust reader, about 15 times faster
    than openpyxl's on a large export), from A1 like openpyxl's rows; None for a sheet
    or a file it cannot read, which openpyxl then reads. Calamine holds a sheet's cells
    in memory where openpyxl streams them: a workbook over ``FAST_MAX_BYTES`` streams."""
    if len(data) > FAST_MAX_BYTES:
        return None
    try:
        from python_calamine import CalamineWorkbook
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - any failure here: openpyxl reads the file instead
        return None

    def rows(title: str) -> Iterator[tuple[object, ...]] | None:
        try:
            sheet = book.get_sheet_by_name(title)
        except Exception:  # noqa: BLE001 - as above, for this sheet
            return None
        return _from_a1(sheet)
    return rows


def _from_a1(sheet: Any) -> Iterator[tuple[object, ...]]:
    """The sheet's rows from A1 to its last used cell, as openpyxl gives them (labels
    count from A1). Calamine's rows (the locked version; a test holds it to openpyxl's
    on sheets that start below and right of A1) start at row 1 but at the first used
    column, and end at the last used one: the columns before are put back."""
    if sheet.end is None:
        return
    width = sheet.end[1] + 1
    for row in sheet.iter_rows():
        pad = (None,) * (width - len(row))
        yield pad + tuple(map(_as_openpyxl, row))


def _worksheets(data: bytes) -> list[tuple[str, str]]:
    """(title, part path) of each worksheet, in order, read by openpyxl's own reader from
    the package's manifest and workbook part only. ``load_workbook`` in read-only mode
    also opens every sheet to learn its size, and a sheet that does not state its size
    (one written by a streaming writer, as openpyxl's own) is then parsed whole: for a
    large export, as long as reading its cells."""
    from openpyxl.reader.excel import ExcelReader
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_workbook()
    return [(sheet.name, rel.target) for sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type]


class _Book:
    """openpyxl's read-only workbook, loaded the first time something needs it: a
    sheet calamine could not read, a formula's cells, a file calamine could not open."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._book: Any = None

    def get(self) -> Any:
        if self._book is None:
            import openpyxl
            self._book = openpyxl.load_workbook(io.BytesIO(self.data), read_only=True,
                                                data_only=True)
        return self._book

    def close(self) -> None:
        if self._book is not None:
            self._book.close()


def extract_xlsx(data: bytes) -> Extracted:
    _guard(data)
    book = _Book(data)
    fast_rows = _fast_rows(data)
    builder = TextBuilder()
    try:
        sheets: list[tuple[str, str]] | None = None
        if fast_rows is not None:
            try:
                sheets = _worksheets(data)
            except Exception:  # noqa: BLE001 - openpyxl's whole load says what is wrong
                sheets = None
        if sheets is None:
            sheets = [(ws.title, ws._worksheet_path) for ws in book.get().worksheets]
        for name, _path in sheets:
            builder.add(f"Sheet: {name}", f"{name}!A1")
            def label(r: int, c: int, name: str = name) -> str:
                return cell_label(name, r, c)

            rows = fast_rows(name) if fast_rows is not None else None
            table_rows(rows or book.get()[name].iter_rows(values_only=True), label, builder)

        def values_of(title: str, refs: set[str]) -> dict[str, object]:
            from openpyxl.utils.cell import (
                column_index_from_string,
                coordinate_from_string,
            )
            wanted = {}
            for ref in refs:
                col, row = coordinate_from_string(ref)
                wanted[(row, column_index_from_string(col))] = ref
            sheet = book.get()[title]
            # A reference past the sheet's last row (a formula's text can name any cell)
            # must not make the reader walk a million empty rows.
            last = min(max(r for r, _ in wanted), sheet.max_row or 0)
            found: dict[str, object] = {}
            rows = sheet.iter_rows(max_row=last, values_only=True) if last else ()
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    if (r, c) in wanted:
                        found[wanted[(r, c)]] = value
            return found

        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = add_workbook_parts(zf, sheets, values_of, builder)
            children = embedded_members(zf)
    finally:
        book.close()
    doc = builder.build()
    doc.children = children
    doc.reason = "; ".join(parts.notes)
    return doc
