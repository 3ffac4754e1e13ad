"""Word (.docx) and Excel (.xlsx, .xlsm) through python-docx and openpyxl."""
from __future__ import annotations

import io
import zipfile

from .base import EncryptedItem, Extracted, TextBuilder
from .text import cell_label, table_rows

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _guard(data: bytes) -> None:
    # An encrypted OOXML file is an OLE2 container holding EncryptedPackage.
    if data[:8] == OLE_MAGIC and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k" in data:
        raise EncryptedItem("encrypted Office document")


def extract_docx(data: bytes) -> Extracted:
    _guard(data)
    import docx

    document = docx.Document(io.BytesIO(data))
    builder = TextBuilder()
    for i, para in enumerate(document.paragraphs, start=1):
        builder.add(para.text, f"paragraph {i}")
    for t, table in enumerate(document.tables, start=1):
        rows = ([cell.text for cell in row.cells] for row in table.rows)
        table_rows(rows, lambda r, c, t=t: f"table {t} {cell_label(None, r, c)}", builder)
    for s, section in enumerate(document.sections, start=1):
        for part, name in ((section.header, "header"), (section.footer, "footer")):
            for para in part.paragraphs:
                builder.add(para.text, f"{name} (section {s})")
    return builder.build()


def extract_xlsx(data: bytes) -> Extracted:
    _guard(data)
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise
    builder = TextBuilder()
    try:
        for sheet in book.worksheets:
            name = sheet.title
            builder.add(f"Sheet: {name}", f"{name}!A1")
            table_rows(sheet.iter_rows(values_only=True),
                       lambda r, c, name=name: cell_label(name, r, c), builder)
    finally:
        book.close()
    return builder.build()
