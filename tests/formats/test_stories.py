"""Every story of a Word document and every part of a workbook is read, and read once:
documents made with python-docx and openpyxl, classified by the real engine."""
from __future__ import annotations

import io
import zipfile
from collections import Counter

import docx
import openpyxl
import pytest
from docx.oxml import parse_xml
from openpyxl.comments import Comment

from dataward.classifiers.engine import Classifier
from dataward.classifiers.extractors import extract
from dataward.connectors.roster import Person, Roster

NAMES = ["Layla White", "Amber Jones", "Omar Patel", "Ruby Clarke", "Noah Evans",
         "Isla Brown", "Leo Wright", "Maya Green", "Finn Walsh", "Ella Shah",
         "Zara Hill", "Theo Ward", "Ivy Cole", "Alfie Lane", "Rosa Kerr"]
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    people = []
    for n in NAMES:
        f, s = n.lower().split()
        people.append(Person(f"{f} {s}", (f"{f} {s}", f"{s}, {f}", f"{s} {f}"), "pupils"))
    return Classifier(b"s" * 32, Roster(people))


def _names_found(classifier, doc) -> Counter:
    counts: Counter = Counter()
    for f in classifier.classify(doc):
        if f.entity_type == "PERSON":
            counts[next(n for n in NAMES if doc.text.startswith(n.split()[0], f.offset)
                        or doc.text.startswith(n.split()[1], f.offset))] += 1
    return counts


def _text_box(text: str) -> str:
    box = f'<w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>'
    return (f'<w:r {W_NS} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
            'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
            'xmlns:v="urn:schemas-microsoft-com:vml">'
            '<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:wsp><wps:txbx>'
            f'{box}</wps:txbx></wps:wsp></w:drawing></mc:Choice>'
            f'<mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>'
            '</mc:Fallback></mc:AlternateContent></w:r>')


def _every_story_docx() -> bytes:
    d = docx.Document()
    d.add_paragraph(f"Body: {NAMES[0]} joined Year 6.")
    p = d.add_paragraph("Shape: ")
    p._p.append(parse_xml(_text_box(f"{NAMES[1]} (text box)")))
    p = d.add_paragraph("Edits: ")
    p._p.append(parse_xml(f'<w:ins {W_NS} w:id="1" w:author="a"><w:r><w:t>{NAMES[2]} added</w:t>'
                          '</w:r></w:ins>'))
    p._p.append(parse_xml(f'<w:del {W_NS} w:id="2" w:author="a"><w:r><w:delText xml:space="preserve"> {NAMES[3]} '
                          'removed</w:delText></w:r></w:del>'))
    d.element.body.insert(0, parse_xml(
        f'<w:sdt {W_NS}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>Pupil: {NAMES[4]}</w:t></w:r>'
        '</w:p></w:sdtContent></w:sdt>'))
    outer = d.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "Contacts"
    inner = outer.cell(0, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "Sibling"
    inner.cell(0, 1).text = NAMES[5]
    merged = d.add_table(rows=2, cols=3)
    merged.cell(0, 0).merge(merged.cell(0, 2)).text = f"Keyworker {NAMES[6]}"
    comment_on = d.add_paragraph("Reviewed.")
    d.add_comment(comment_on.runs, text=f"Ask {NAMES[7]}'s mum", author="SENCo")
    section = d.sections[0]
    section.different_first_page_header_footer = True
    d.settings.odd_and_even_pages_header_footer = True
    section.header.paragraphs[0].text = f"Confidential: {NAMES[8]}"
    section.first_page_header.paragraphs[0].text = f"First page: {NAMES[9]}"
    section.even_page_footer.paragraphs[0].text = f"Even page: {NAMES[10]}"
    buf = io.BytesIO()
    d.save(buf)
    return _with_parts(buf.getvalue(), {
        "word/footnotes.xml": _notes("footnote", NAMES[11]),
        "word/endnotes.xml": _notes("endnote", NAMES[12]),
        "word/embeddings/Microsoft_Excel_Worksheet.xlsx": _workbook_with(NAMES[13]),
    })


def _notes(kind: str, name: str) -> bytes:
    return (f'<w:{kind}s {W_NS}><w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/>'
            f'</w:r></w:p></w:{kind}><w:{kind} w:id="1"><w:p><w:r><w:t>See {name}</w:t></w:r>'
            f'</w:p></w:{kind}></w:{kind}s>').encode()


def _workbook_with(name: str) -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = name
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _with_parts(package: bytes, parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name, data in parts.items():
            dst.writestr(name, data)
    return out.getvalue()


def test_every_story_of_a_word_document_is_read_once(classifier):
    doc = extract("docx", _every_story_docx())
    found = _names_found(classifier, doc)
    assert found == Counter({n: 1 for n in NAMES[:13]})
    wheres = {f.where for f in classifier.classify(doc) if f.entity_type == "PERSON"}
    assert {"text box 1", "comment 1", "footnote 2", "endnote 2"} <= wheres
    assert [m.name for m in doc.children] == ["embeddings/Microsoft_Excel_Worksheet.xlsx"]
    inner = extract("xlsx", doc.children[0].data)
    assert _names_found(classifier, inner) == Counter({NAMES[13]: 1})


def test_key_value_table_is_read_as_pairs(classifier):
    d = docx.Document()
    rows = [("Pupil", "Layla White"), ("DOB", "12/03/2014"), ("Parent", "Amber Jones"),
            ("Sibling", "Omar Patel")]
    table = d.add_table(rows=len(rows), cols=2)
    for r, (k, v) in enumerate(rows):
        table.cell(r, 0).text, table.cell(r, 1).text = k, v
    buf = io.BytesIO()
    d.save(buf)
    doc = extract("docx", buf.getvalue())
    findings = classifier.classify(doc)
    assert Counter(f.entity_type for f in findings) == Counter({"PERSON": 3, "DATE_OF_BIRTH": 1})


def _xlsx(fill) -> bytes:
    wb = openpyxl.Workbook()
    fill(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_header_term_is_counted_once_not_before_every_cell(classifier):
    def fill(wb):
        ws = wb.active
        ws.append(["Name", "Dinner money", "FSM"])
        for i in range(40):
            ws.append([f"Child {i}", 2.5, "Y" if i % 3 else ""])
    findings = classifier.classify(extract("xlsx", _xlsx(fill)))
    assert [f.category for f in findings if f.entity_type == "SPECIAL_CATEGORY"] == ["fsm"]


def test_date_of_birth_cue_found_under_title_rows(classifier):
    def fill(wb):
        ws = wb.active
        ws.append(["Oakfield Primary School"])
        ws.append(["Class 4 list, Autumn term 2024"])
        ws.append([])
        ws.append(["Forename", "Surname", "Date of birth", "Notes"])
        for n, dob in zip(NAMES[:5], ["03/02/2015", "14/07/2015", "2015-01-30", "30/11/2014",
                                      "09/09/2015"]):
            ws.append([*n.split(), dob, ""])
    findings = classifier.classify(extract("xlsx", _xlsx(fill)))
    counts = Counter(f.entity_type for f in findings)
    assert counts["DATE_OF_BIRTH"] == 5
    assert counts["PERSON"] == 5   # forename and surname in neighbouring cells: one name


def test_workbook_comments_headers_shapes_and_formulas(classifier):
    def fill(wb):
        ws = wb.active
        ws.title = "Trip"
        ws.append(["Forename", "Surname", "Letter"])
        ws.append(["Noah", "Evans", '="Dear "&A2&" "&B2'])
        ws.append(["x", "y", "=VLOOKUP(A2,Other!A:B,2,FALSE)"])
        ws["A3"].comment = Comment(f"{NAMES[5]} is allergic", "office")
        ws.oddHeader.center.text = f"Trip list {NAMES[6]}"
        ws.evenFooter.left.text = f"Printed by {NAMES[7]}"
    data = _xlsx(fill)
    doc = extract("xlsx", data)
    found = _names_found(classifier, doc)
    # Noah Evans: the row's cells and the worked-out letter; the others once each.
    assert found == Counter({NAMES[4]: 2, NAMES[5]: 1, NAMES[6]: 1, NAMES[7]: 1})
    assert doc.reason == "1 formula cells saved without a value were not read"


def test_shape_text_in_a_workbook_drawing(classifier):
    drawing = ('<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
               'spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/'
               'main"><xdr:twoCellAnchor><xdr:sp><xdr:txBody><a:p><a:r><a:t>Collect '
               f'{NAMES[8]} at 3pm</a:t></a:r></a:p></xdr:txBody></xdr:sp></xdr:twoCellAnchor>'
               '</xdr:wsDr>').encode()
    data = _with_parts(_xlsx(lambda wb: wb.active.append(["a", "b"])),
                       {"xl/drawings/drawing1.xml": drawing})
    assert _names_found(classifier, extract("xlsx", data)) == Counter({NAMES[8]: 1})
