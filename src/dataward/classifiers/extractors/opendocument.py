"""PowerPoint (.pptx) through python-pptx; OpenDocument text, spreadsheets and
presentations (.odt, .ods, .odp) through odfpy."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .base import EncryptedItem, Extracted, TextBuilder
from .embedded import embedded_members
from .office import _guard
from .tables import table_rows
from .text import cell_label

if TYPE_CHECKING:
    from pptx.shapes.base import BaseShape


def extract_pptx(data: bytes) -> Extracted:
    _guard(data)
    from pptx import Presentation
    from pptx.shapes.autoshape import Shape
    from pptx.shapes.graphfrm import GraphicFrame

    deck = Presentation(io.BytesIO(data))
    builder = TextBuilder()
    for n, slide in enumerate(deck.slides, start=1):
        label = f"slide {n}"
        for shape in _shapes(slide.shapes):
            if isinstance(shape, Shape) and shape.has_text_frame:
                builder.add(shape.text_frame.text, label)
            if isinstance(shape, GraphicFrame) and shape.has_table:
                rows = ([cell.text for cell in row.cells] for row in shape.table.rows)
                table_rows(rows, partial(_slide_cell, label), builder)
        if slide.has_notes_slide:
            builder.add(slide.notes_slide.notes_text_frame.text, f"{label} notes")
    doc = builder.build()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        doc.children = embedded_members(zf)  # a workbook or zip inserted into a slide
    return doc


def _slide_cell(label: str, row: int, col: int) -> str:
    return f"{label} table {cell_label(None, row, col)}"


def _shapes(shapes: Iterable[BaseShape]) -> Iterator[BaseShape]:
    from pptx.shapes.group import GroupShape

    for shape in shapes:
        if isinstance(shape, GroupShape):  # a group: its shapes hold the text
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _odf_guard(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            manifest = zf.read("META-INF/manifest.xml")
    except KeyError:
        return
    if b"encryption-data" in manifest:
        raise EncryptedItem("password-protected OpenDocument file")


def _load(data: bytes) -> Any:  # odfpy has no types
    _odf_guard(data)
    from odf.opendocument import load
    return load(io.BytesIO(data))


def extract_odt(data: bytes) -> Extracted:
    from odf import teletype, text

    doc = _load(data)
    builder = TextBuilder()
    n = 0
    for element in doc.text.getElementsByType(text.P) + doc.text.getElementsByType(text.H):
        n += 1
        builder.add(teletype.extractText(element), f"paragraph {n}")
    return builder.build()


def extract_ods(data: bytes) -> Extracted:
    from odf import table, teletype

    doc = _load(data)
    builder = TextBuilder()
    for sheet in doc.spreadsheet.getElementsByType(table.Table):
        name = sheet.getAttribute("name") or "Sheet"
        builder.add(f"Sheet: {name}", f"{name}!A1")
        table_rows(_ods_rows(sheet, table, teletype),
                   partial(cell_label, name), builder)
    return builder.build()


# Repeated empty rows and columns are how ODF pads a sheet to its full size: cap the
# repeat so a padded sheet costs nothing.
_MAX_REPEAT = 1000


def _ods_rows(sheet: Any, table: ModuleType, teletype: ModuleType) -> Iterator[list[str]]:
    for row in sheet.getElementsByType(table.TableRow):
        cells: list[str] = []
        for cell in row.getElementsByType(table.TableCell):
            value = teletype.extractText(cell)
            repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
            cells.extend([value] * (min(repeat, _MAX_REPEAT) if value else 1))
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        if not any(c.strip() for c in cells):
            continue
        for _ in range(min(repeat, _MAX_REPEAT)):
            yield cells


def extract_odp(data: bytes) -> Extracted:
    from odf import draw, teletype, text

    doc = _load(data)
    builder = TextBuilder()
    for n, page in enumerate(doc.presentation.getElementsByType(draw.Page), start=1):
        for para in page.getElementsByType(text.P):
            builder.add(teletype.extractText(para), f"slide {n}")
    return builder.build()
