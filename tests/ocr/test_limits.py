"""What could not be recognised says so: no Tesseract, OCR turned off, caps, the scan's
budget; and hostile pictures (a 20,000 x 20,000 image, a 500-page image PDF, a corrupt
fax) each end as an item with a status within the item limits."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from tests.formats.conftest import make_settings, run

from .conftest import photo_of_children, png_bytes, render_letter


def _share(tmp_path, files: dict[str, bytes]):
    share = tmp_path / "share"
    share.mkdir()
    for name, data in files.items():
        (share / name).write_bytes(data)
    return share


def test_without_tesseract_pictures_of_text_are_marked_and_counted(dw_home, tmp_path):
    from dataward.ledger import Ledger
    from dataward.pipelines.report import render_markdown
    from dataward.pipelines.report_data import build_report_data
    settings = make_settings(tmp_path, "workers: 1")
    settings.ocr.tesseract_cmd = str(tmp_path / "no-such-tesseract")
    share = _share(tmp_path, {"form.png": png_bytes(render_letter(150)),
                              "playground.jpg": png_bytes(photo_of_children(), "JPEG")})
    s = run(settings, share, adhoc=False)
    form = s.items["form.png"]
    assert (form.status, form.ocr) == ("partial", "needed")
    assert "text is an image" in form.error and "Tesseract is not installed" in form.error
    assert (s.items["playground.jpg"].status, s.items["playground.jpg"].ocr) == ("ok", "")

    with Ledger.for_settings(settings) as ledger:
        data = build_report_data(settings, ledger)
    assert data.headline["ocr_needed"] == 1 and data.headline["ocr_read"] == 0
    assert any(u.path.endswith("form.png") for u in data.unreadable)
    md = render_markdown(data)
    assert "| pictures of text still to recognise | 1 |" in md


def test_ocr_turned_off_is_said(dw_home, tmp_path):
    settings = make_settings(tmp_path, "workers: 1")
    settings.ocr.enabled = False
    s = run(settings, _share(tmp_path, {"form.png": png_bytes(render_letter(150))}))
    assert s.items["form.png"].status == "partial"
    assert "turned off" in s.items["form.png"].error


def test_pages_past_the_cap_and_a_spent_budget(dw_home, tmp_path):
    from .conftest import image_pdf
    settings = make_settings(tmp_path, "workers: 1")
    settings.ocr.max_pages_per_item = 1
    page = render_letter(100)
    s = run(settings, _share(tmp_path, {"three.pdf": image_pdf([page, page, page])}))
    item = s.items["three.pdf"]
    assert (item.status, item.ocr) == ("partial", "partial")
    assert "1 of 3" in item.error and "2 page(s) past the cap of 1" in item.error
    assert len(s.findings[s.findings.locator == item.locator]) > 0  # the page read counts

    (tmp_path / "b").mkdir()
    settings = make_settings(tmp_path / "b", "workers: 1")
    settings.ocr.scan_budget_minutes = 0.0001  # 6 ms: spent by the first page
    s = run(settings, _share(tmp_path / "b", {"a.png": png_bytes(render_letter(100)),
                                              "b.png": png_bytes(render_letter(100))}))
    states = sorted((r.ocr, r.status) for r in s.items.values())
    assert ("needed", "partial") in states
    spent = [r for r in s.items.values() if r.ocr == "needed"]
    assert all("budget was spent" in r.error for r in spent)


def _huge_png(side: int) -> bytes:
    """A white greyscale PNG side x side, written row by row (never held whole)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    comp = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * side
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def _many_page_pdf(pages: int) -> bytes:
    """An image-only PDF of ``pages`` pages sharing one scanned image (as a scanner app
    writes a long document), built with reportlab."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    img = ImageReader(render_letter(72))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    for _ in range(pages):
        c.drawImage(img, 0, 0, width=595, height=842)
        c.showPage()
    c.save()
    return buf.getvalue()


def test_hostile_pictures_end_as_items_with_a_status(dw_home, tmp_path):
    settings = make_settings(tmp_path, "workers: 2, item_timeout_s: 60, item_memory_mb: 1024")
    settings.ocr.max_pages_per_item = 2
    fax = io.BytesIO()
    render_letter(100).convert("1").save(fax, "TIFF", compression="group4")
    good = fax.getvalue()
    # Image data replaced by garbage (header and directory intact): decodes to noise.
    noise = good[:8] + bytes((b * 7 + 3) & 0xFF for b in good[8:len(good) // 2]) + good[len(good) // 2:]
    # The directory offset pointing past the end of the file.
    bad_ifd = good[:4] + struct.pack("<I", len(good) + 4096) + good[8:]
    share = _share(tmp_path, {"huge.png": _huge_png(20_000), "long.pdf": _many_page_pdf(500),
                              "noise-fax.tif": noise, "bad-ifd-fax.tif": bad_ifd,
                              "cut-fax.tif": good[:200]})
    s = run(settings, share)

    huge = s.items["huge.png"]
    assert huge.status in ("error", "partial") and "too large" in huge.error
    long = s.items["long.pdf"]
    assert (long.status, long.ocr) == ("partial", "partial")
    assert "2 of 500" in long.error and "498 page(s) past the cap" in long.error
    for name in ("bad-ifd-fax.tif", "cut-fax.tif"):
        item = s.items[name]
        assert item.status in ("error", "partial"), (name, item.status)
        assert item.error and "internal error" not in item.error, (name, item.error)
    assert s.items["noise-fax.tif"].status in ("ok", "partial")
    assert "internal error" not in s.items["noise-fax.tif"].error
    assert s.result.items == 5


def test_a_photo_too_large_to_examine_is_said(dw_home, tmp_path):
    """Over ocr.max_megapixels but under Pillow's bomb limit: not decoded, and said."""
    settings = make_settings(tmp_path, "workers: 1")
    settings.ocr.max_megapixels = 1
    share = _share(tmp_path, {"big.png": png_bytes(Image.new("L", (1500, 1000), 255))})
    s = run(settings, share)
    assert s.items["big.png"].status == "partial"
    assert "too large to examine" in s.items["big.png"].error
