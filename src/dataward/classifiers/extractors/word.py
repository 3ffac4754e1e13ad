"""Word (.docx): every story of the package, read from its XML.

python-docx sees the body's paragraphs and tables and the default header and footer of
each section. A document holds more, and all of it can hold a pupil's name: text boxes
and shapes, comments, footnotes and endnotes, tracked insertions and deletions (deleted
text is still in the file), content controls, tables nested in table cells, first-page
and even-page headers and footers, and embedded objects (a workbook or a zip inside the
document, which become members). Merged table cells are read once.

Text boxes are written twice by Word (a DrawingML shape and a VML fallback): only the
first is read, so nothing is counted twice."""
from __future__ import annotations

import io
import re
import zipfile

from lxml import etree

from .base import Extracted, TextBuilder
from .embedded import embedded_members
from .tables import table_rows
from .text import cell_label

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_P, _TBL, _TR, _TC = W + "p", W + "tbl", W + "tr", W + "tc"
_TEXT = {W + "t", W + "delText"}
_BREAK = {W + "tab": "\t", W + "br": "\n", W + "cr": "\n", W + "noBreakHyphen": "-"}
_SKIP = {W + "pPr", W + "rPr", W + "tblPr", W + "tcPr", W + "trPr", W + "sdtPr", W + "instrText",
         W + "delInstrText", MC_FALLBACK}
_TXBX = W + "txbxContent"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_comments=True, remove_pis=True)
# Stories, in reading order, and how their findings are labelled.
_STORIES = (
    (re.compile(r"word/document\d*\.xml"), "body"),
    (re.compile(r"word/header\d*\.xml"), "header"),
    (re.compile(r"word/footer\d*\.xml"), "footer"),
    (re.compile(r"word/footnotes\.xml"), "footnote"),
    (re.compile(r"word/endnotes\.xml"), "endnote"),
    (re.compile(r"word/comments\.xml"), "comment"),
)


class _Story:
    def __init__(self, builder: TextBuilder, label: str, tables: list[int]) -> None:
        self.builder, self.label, self.tables = builder, label, tables
        self.paragraphs = 0
        self.boxes: list[etree._Element] = []

    def blocks(self, parent: etree._Element) -> None:
        for child in parent:
            if child.tag == _P:
                self.paragraph(child)
            elif child.tag == _TBL:
                self.table(child)
            elif child.tag not in _SKIP and isinstance(child.tag, str):
                self.blocks(child)  # content controls, custom XML, notes, comments

    def paragraph(self, p: etree._Element) -> None:
        self.paragraphs += 1
        label = (f"paragraph {self.paragraphs}" if self.label == "body"
                 else f"{self.label} {self.paragraphs}")
        self.builder.add(self.text_of(p), label)
        self.flush_boxes()

    def text_of(self, element: etree._Element) -> str:
        out: list[str] = []
        self._runs(element, out)
        return "".join(out)

    def _runs(self, element: etree._Element, out: list[str]) -> None:
        for c in element:
            tag = c.tag
            if tag in _TEXT:
                out.append(c.text or "")
            elif tag in _BREAK:
                out.append(_BREAK[tag])
            elif tag == _TXBX:
                self.boxes.append(c)
            elif tag == _P:  # a paragraph inside a run container (rare): its own line
                out.append("\n")
                self._runs(c, out)
            elif tag not in _SKIP and isinstance(tag, str):
                self._runs(c, out)

    def flush_boxes(self) -> None:
        boxes, self.boxes = self.boxes, []
        for box in boxes:
            inner = _Story(self.builder, "text box", self.tables)
            inner.blocks(box)

    def table(self, tbl: etree._Element) -> None:
        self.tables[0] += 1
        t = self.tables[0]
        nested: list[etree._Element] = []
        rows = []
        for tr in tbl.iter(_TR):
            if _owner_table(tr) is not tbl:
                continue
            cells = []
            for tc in tr.iter(_TC):
                if _owner_table(tc) is not tbl:
                    continue
                parts = []
                for child in tc:
                    if child.tag == _TBL:
                        nested.append(child)
                    elif child.tag == _P or child.tag not in _SKIP and isinstance(child.tag, str):
                        parts.append(self.text_of(child))
                cells.append("\n".join(p for p in parts if p.strip()))
            rows.append(cells)
        prefix = "" if self.label == "body" else f"{self.label} "

        def label(r: int, c: int) -> str:
            return f"{prefix}table {t} {cell_label(None, r, c)}"

        table_rows(rows, label, self.builder)
        self.flush_boxes()
        for inner in nested:
            self.table(inner)


def _owner_table(element: etree._Element) -> etree._Element | None:
    parent = element.getparent()
    while parent is not None and parent.tag != _TBL:
        parent = parent.getparent()
    return parent


def extract_docx(data: bytes) -> Extracted:
    from .office import _guard

    _guard(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        if "word/document.xml" not in names:
            raise zipfile.BadZipFile("no word/document.xml part")
        builder = TextBuilder()
        tables = [0]
        for pattern, label in _STORIES:
            for name in sorted((n for n in names if pattern.fullmatch(n)), key=_natural):
                root = etree.fromstring(zf.read(name), _PARSER)
                story = _Story(builder, label, tables)
                story.blocks(root)
                story.flush_boxes()
        doc = builder.build()
        doc.children = embedded_members(zf)
    return doc


def _natural(name: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", name)
    return (int(digits[-1]) if digits else 0, name)
