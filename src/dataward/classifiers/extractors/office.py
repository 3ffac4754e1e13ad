"""Excel (.xlsx, .xlsm) through openpyxl; the encryption guard of every OOXML file.
Word (.docx) is read from its XML in ``word.py``."""
from __future__ import annotations

import io
import zipfile

from .base import EncryptedItem, Extracted, TextBuilder
from .embedded import embedded_members
from .tables import table_rows
from .text import cell_label
from .workbook_parts import add_workbook_parts

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _guard(data: bytes) -> None:
    # An encrypted OOXML file is an OLE2 container holding EncryptedPackage.
    if data[:8] == OLE_MAGIC and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k" in data:
        raise EncryptedItem("encrypted Office document")


def extract_xlsx(data: bytes) -> Extracted:
    _guard(data)
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    builder = TextBuilder()
    try:
        sheets = []
        for sheet in book.worksheets:
            name = sheet.title
            sheets.append((name, sheet._worksheet_path))
            builder.add(f"Sheet: {name}", f"{name}!A1")
            def label(r: int, c: int, name: str = name) -> str:
                return cell_label(name, r, c)

            table_rows(sheet.iter_rows(values_only=True), label, builder)

        def values_of(title: str, refs: set[str]) -> dict[str, object]:
            from openpyxl.utils.cell import (
                column_index_from_string,
                coordinate_from_string,
            )
            wanted = {}
            for ref in refs:
                col, row = coordinate_from_string(ref)
                wanted[(row, column_index_from_string(col))] = ref
            sheet = book[title]
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
