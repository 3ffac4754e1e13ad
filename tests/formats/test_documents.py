"""Presentations, OpenDocument, RTF, legacy Office and encrypted documents, each made by
its own library (or a real sample), read through a scan."""
from __future__ import annotations

import io
import os
import shutil

from .conftest import LINE, SAMPLES, assert_no_raw_values, run

POI = SAMPLES / "apache-poi" / "office-encrypted"


def _pptx(path):
    from pptx import Presentation
    from pptx.util import Inches
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Class list"
    rows = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    rows.cell(0, 0).text, rows.cell(0, 1).text = "Name", "UPN"
    rows.cell(1, 0).text, rows.cell(1, 1).text = "Amelia Khan", "U820200014013"
    slide.notes_slide.notes_text_frame.text = "Call 020 7946 0123 about NHS 943 476 5919"
    deck.save(path)


def _odf(share):
    from odf.opendocument import OpenDocumentPresentation, OpenDocumentSpreadsheet, OpenDocumentText
    from odf.style import MasterPage, PageLayout
    from odf.draw import Frame, Page, TextBox
    from odf.table import Table, TableCell, TableRow
    from odf.text import P
    doc = OpenDocumentText()
    doc.text.addElement(P(text="Minutes"))
    doc.text.addElement(P(text=LINE))
    doc.save(str(share / "minutes.odt"))
    sheet = OpenDocumentSpreadsheet()
    table = Table(name="Pupils")
    for values in (("Name", "UPN"), ("Amelia Khan", "U820200014013")):
        row = TableRow()
        for v in values:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=v))
            row.addElement(cell)
        table.addElement(row)
    sheet.spreadsheet.addElement(table)
    sheet.save(str(share / "pupils.ods"))
    pres = OpenDocumentPresentation()
    layout = PageLayout(name="L")
    pres.automaticstyles.addElement(layout)
    master = MasterPage(name="M", pagelayoutname=layout)
    pres.masterstyles.addElement(master)
    page = Page(masterpagename=master)
    frame = Frame(width="20cm", height="5cm", x="1cm", y="1cm")
    box = TextBox()
    box.addElement(P(text=LINE))
    frame.addElement(box)
    page.addElement(frame)
    pres.presentation.addElement(page)
    pres.save(str(share / "assembly.odp"))


def _xls(path):
    import xlwt
    book = xlwt.Workbook()
    sheet = book.add_sheet("SEN register")
    for r, values in enumerate((("Name", "UPN", "Need"), ("Amelia Khan", "U820200014013", "EHCP"))):
        for c, v in enumerate(values):
            sheet.write(r, c, v)
    book.save(str(path))


def test_office_and_opendocument_formats(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    _pptx(share / "class.pptx")
    _odf(share)
    _xls(share / "sen.xls")
    (share / "letter.rtf").write_text(
        r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Dear parent of "
        r"Amelia Khan,\par UPN U820200014013, tel 020 7946 0123.\par}")

    s = run(settings, share)

    expect = {"class.pptx": ("pptx", {"PERSON", "UK_UPN", "UK_NHS", "PHONE_NUMBER"}),
              "minutes.odt": ("odt", {"PERSON", "UK_UPN", "UK_NHS", "EMAIL_ADDRESS"}),
              "pupils.ods": ("ods", {"PERSON", "UK_UPN"}),
              "assembly.odp": ("odp", {"PERSON", "UK_UPN", "UK_NHS"}),
              "sen.xls": ("xls", {"PERSON", "UK_UPN", "SPECIAL_CATEGORY"}),
              "letter.rtf": ("rtf", {"PERSON", "UK_UPN", "PHONE_NUMBER"})}
    for name, (fmt, entities) in expect.items():
        item = s.items[name]
        assert (item.format, item.status) == (fmt, "ok"), (name, item.error)
        assert entities <= set(s.found(name)), (name, s.found(name))
    upn = s.findings[(s.findings.locator == s.items["sen.xls"].locator)
                     & (s.findings.entity_type == "UK_UPN")].iloc[0]
    assert upn["where"] == "SEN register!B2"
    assert_no_raw_values(s.out_dir)


def test_encrypted_documents_are_encrypted_not_errors(settings, tmp_path):
    import docx
    from msoffcrypto.format.ooxml import OOXMLFile
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    share = tmp_path / "share"
    share.mkdir()
    d = docx.Document()
    d.add_paragraph(LINE)
    plain = io.BytesIO()
    d.save(plain)
    plain.seek(0)
    with open(share / "sealed.docx", "wb") as out:
        OOXMLFile(plain).encrypt("Oakfield-2024", out)
    for name in ("PasswordProtected.doc", "password.xls", "protected_agile.docx",
                 "bug53475-password-is-pass.docx", "protected_passtika.xlsx",
                 "protected_sample.docx"):
        shutil.copy(f"{POI}/{name}", share / name)
    c = canvas.Canvas(str(tmp_path / "p.pdf"))
    c.drawString(50, 800, LINE)
    c.save()
    for name, user in (("user-password.pdf", "open-sesame"), ("owner-only.pdf", "")):
        writer = PdfWriter(clone_from=PdfReader(tmp_path / "p.pdf"))
        writer.encrypt(user_password=user, owner_password="owner-secret", algorithm="AES-256")
        writer.write(share / name)

    s = run(settings, share)

    for name in ("sealed.docx", "PasswordProtected.doc", "password.xls", "protected_agile.docx",
                 "bug53475-password-is-pass.docx", "protected_passtika.xlsx", "user-password.pdf"):
        assert s.items[name].status == "encrypted", (name, s.items[name].error)
    assert "Word" in s.items["PasswordProtected.doc"].error
    # Edit-restricted only, and a PDF with only an owner password: both are read.
    assert s.items["protected_sample.docx"].status == "ok"
    assert s.items["owner-only.pdf"].status == "ok"
    assert {"PERSON", "UK_UPN"} <= set(s.found("owner-only.pdf"))


def test_content_decides_the_format(settings, tmp_path):
    from reportlab.pdfgen import canvas
    share = tmp_path / "share"
    share.mkdir()
    c = canvas.Canvas(str(share / "really-a-pdf.docx"))
    c.drawString(50, 800, LINE)
    c.save()
    _xls(share / "really-a-workbook.doc")
    (share / "unknown.dat").write_bytes(b"\x00\x9f\x11" + os.urandom(4096))

    s = run(settings, share)

    assert s.items["really-a-pdf.docx"].format == "pdf"
    assert "UK_UPN" in s.found("really-a-pdf.docx")
    assert s.items["really-a-workbook.doc"].status == "ok"
    assert "UK_UPN" in s.found("really-a-workbook.doc")
    assert s.items["unknown.dat"].status == "unsupported"


def test_sparse_2gb_file_and_file_swapped_for_a_folder(dw_home, tmp_path, monkeypatch):
    from dataward.classifiers import sniff
    from dataward.classifiers.extractors import EXTRACTORS

    from .conftest import make_settings
    share = tmp_path / "share"
    share.mkdir()
    with open(share / "disk.img", "wb") as fh:
        fh.truncate(2 * 1024 ** 3)                  # 2 GB, no block written
    (share / "a-swapper.swap").write_bytes(b"\x00\x01")
    (share / "b-victim.txt").write_text(LINE)
    (share / "c-after.txt").write_text(LINE)

    def swap(data):
        # Runs in the worker after the walk listed b-victim.txt as a file.
        victim = share / "b-victim.txt"
        victim.unlink()
        victim.mkdir()
        raise ValueError("done")

    monkeypatch.setitem(sniff.EXTENSIONS, ".swap", "swap")
    monkeypatch.setitem(EXTRACTORS, "swap", swap)
    settings = make_settings(tmp_path, "workers: 1")
    s = run(settings, share)

    assert s.items["disk.img"].status == "skipped"
    assert "MB cap" in s.items["disk.img"].error and s.items["disk.img"].size == 2 * 1024 ** 3
    assert s.items["b-victim.txt"].status == "error"
    assert "not a file" in s.items["b-victim.txt"].error
    assert s.items["c-after.txt"].status == "ok" and "UK_UPN" in s.found("c-after.txt")
    assert os.stat(share / "disk.img").st_blocks == 0
