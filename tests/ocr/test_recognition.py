"""Scanned paper is read: real Tesseract over pages the tests render (Pillow, reportlab),
upright, turned, skewed, as a fax and as an image-only PDF; photos are never sent to it."""
from __future__ import annotations

import os

import pyarrow.parquet as pq
from PIL import Image

from tests.formats.conftest import run
from tests.samples import SAMPLES

from .conftest import (
    LETTER,
    NHS,
    UPN,
    image_pdf,
    photo_of_children,
    png_bytes,
    render_letter,
)

IDS = {"UK_NHS", "UK_UPN", "PERSON", "DATE_OF_BIRTH", "PHONE_NUMBER"}


def _ocr_findings(s, rel):
    loc = s.items[rel].locator
    return s.findings[s.findings.locator == loc]


def test_scanned_letter_found_like_typed_text(ocr_settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    (share / "consent.png").write_bytes(png_bytes(render_letter(300)))
    (share / "typed.txt").write_text("\n".join(LETTER) + "\n")
    s = run(ocr_settings, share)

    scan = s.items["consent.png"]
    assert (scan.status, scan.ocr) == ("ok", "read")
    f = _ocr_findings(s, "consent.png")
    assert IDS <= set(f.entity_type)
    assert set(f.via) == {"ocr"} and set(f["where"]) == {"page 1"}
    # Tesseract's confidence is folded in: below the typed text's score, never above.
    typed = _ocr_findings(s, "typed.txt")
    assert set(typed.via) == {""} and s.items["typed.txt"].ocr == ""
    nhs_ocr = f[f.entity_type == "UK_NHS"].score.iloc[0]
    assert 0.5 <= nhs_ocr < typed[typed.entity_type == "UK_NHS"].score.iloc[0]
    # Recognised text is never written: no value in anything the scan wrote.
    for path in s.out_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert NHS.encode() not in data and UPN.encode() not in data
            assert b"Amelia Khan" not in data


def test_image_only_pdf_turned_and_skewed_pages(ocr_settings, tmp_path):
    """Page 1 typed (a text layer), page 2 scanned upside down, page 3 scanned on its side
    and skewed, page 4 a blank scan: pages 2 and 3 are recognised, page 4 costs nothing."""
    import io

    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    share = tmp_path / "share"
    share.mkdir()
    letter = render_letter(200)
    turned = letter.rotate(90, expand=True).rotate(4, expand=True, fillcolor=255)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    c.drawString(72, 760, "Covering note: the scanned consent forms follow on the next pages.")
    c.showPage()
    for page in (letter.rotate(180), turned, Image.new("L", letter.size, 255)):
        size = (page.width * 72 / 200, page.height * 72 / 200)  # scanned at 200 dpi
        c.setPageSize(size)
        c.drawImage(ImageReader(page), 0, 0, width=size[0], height=size[1])
        c.showPage()
    c.save()
    (share / "scanned.pdf").write_bytes(buf.getvalue())
    s = run(ocr_settings, share)

    item = s.items["scanned.pdf"]
    assert (item.status, item.ocr) == ("ok", "read")
    f = _ocr_findings(s, "scanned.pdf")
    for page in ("page 2", "page 3"):
        on_page = set(f[f["where"] == page].entity_type)
        assert {"UK_NHS", "PERSON", "DATE_OF_BIRTH"} <= on_page, (page, on_page)
    assert set(f.via) == {"ocr"} and "page 4" not in set(f["where"])


def test_fax_tiff_pages_read(ocr_settings, tmp_path):
    """A two-page Group 4 fax at fine resolution (204 x 196 dpi, non-square pixels)."""
    share = tmp_path / "share"
    share.mkdir()
    fax = render_letter(200).convert("1")
    second = render_letter(200, ["Continued", "", "Signed by the parent of Amelia Khan"]).convert("1")
    def squash(im):
        return im.resize((im.width * 204 // 200, im.height * 196 // 200))

    squash(fax).save(share / "fax.tif", compression="group4", dpi=(204, 196),
                     save_all=True, append_images=[squash(second)])
    s = run(ocr_settings, share)
    item = s.items["fax.tif"]
    assert (item.status, item.ocr) == ("ok", "read")
    f = _ocr_findings(s, "fax.tif")
    assert {"UK_NHS", "PERSON"} <= set(f[f["where"] == "page 1"].entity_type)
    assert "PERSON" in set(f[f["where"] == "page 2"].entity_type)


def test_photos_of_people_never_reach_tesseract(logged_tesseract):
    """A wrapper around the real tesseract logs each recognition: only the letter is sent;
    the playground photo and the camera photos stay unread and clean."""
    settings, share = logged_tesseract.settings, logged_tesseract.share
    (share / "playground.jpg").write_bytes(png_bytes(photo_of_children(), "JPEG"))
    for name in ("DSCN0010.jpg", "jolla.jpg", "iphone_hdr_NO.jpg"):
        (share / name).write_bytes((SAMPLES / "exif-samples" / name).read_bytes())
    (share / "letter.jpg").write_bytes(png_bytes(render_letter(150).convert("RGB"), "JPEG"))
    s = run(settings, share)

    for name in ("playground.jpg", "DSCN0010.jpg", "jolla.jpg", "iphone_hdr_NO.jpg"):
        assert s.items[name].ocr == "" and s.items[name].status == "ok", name
        assert not set(_ocr_findings(s, name).entity_type) - {"GPS_LOCATION"}, name
    assert s.items["letter.jpg"].ocr == "read"
    assert 1 <= logged_tesseract.calls() <= 2  # the letter (and at most one orientation retry)


def test_real_scanned_sample_is_read(ocr_settings, tmp_path):
    """A photographed specimen UK passport page (tests/data/samples/octopii)."""
    share = tmp_path / "share"
    share.mkdir()
    (share / "passport.jpg").write_bytes((SAMPLES / "octopii" / "dummy-passport-britain.jpg").read_bytes())
    s = run(ocr_settings, share)
    assert s.items["passport.jpg"].ocr == "read" and s.items["passport.jpg"].status == "ok"


def test_findings_parquet_of_older_scans_reads_with_empty_via(tmp_path):
    import pyarrow as pa

    from dataward.pipelines.outputs import FINDINGS_FILE, read_findings
    old = pa.table({"scan_id": ["s"], "locator": ["file:///a.txt"], "entity_type": ["UK_UPN"],
                    "where": ["offset 0"], "offset": [0], "score": [1.0], "recognizer": ["r"],
                    "preview": ["***13"], "fingerprint": ["f"], "category": [""]})
    pq.write_table(old, tmp_path / FINDINGS_FILE)
    table = read_findings(tmp_path)
    assert table["via"].to_pylist() == [None]


def test_no_file_written_while_recognising(ocr_settings, tmp_path, monkeypatch):
    """Tesseract gets the page on stdin and answers on stdout; its private folder is gone
    afterwards and nothing is left in the temporary folder."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    share = tmp_path / "share"
    share.mkdir()
    (share / "consent.png").write_bytes(png_bytes(render_letter(150)))
    s = run(ocr_settings, share)
    assert s.items["consent.png"].ocr == "read"
    assert os.listdir(tmp) == []


def test_image_pdf_made_by_a_scanner_app(ocr_settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    (share / "scan.pdf").write_bytes(image_pdf([render_letter(150)]))
    s = run(ocr_settings, share)
    assert s.items["scan.pdf"].ocr == "read"
    assert "UK_NHS" in set(_ocr_findings(s, "scan.pdf").entity_type)
