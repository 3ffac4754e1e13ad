"""Forms and photos of forms: ruled boxes round the values, a phone's perspective and
uneven light, a page upside down read once. Real Tesseract over pages the tests draw."""
from __future__ import annotations


from tests.formats.conftest import run

from .conftest import photographed, png_bytes, render_form, render_letter

WANTED = {"PERSON", "DATE_OF_BIRTH", "UK_UPN", "UK_NHS", "UK_POSTCODE", "PHONE_NUMBER"}


def _found(s, name):
    return set(s.findings[s.findings.locator == s.items[name].locator].entity_type)


def test_values_in_ruled_boxes_are_found(ocr_settings, tmp_path):
    """The rules round a form's boxes, scanned a little askew, are not read as letters,
    nor the box as a picture."""
    from PIL import Image
    share = tmp_path / "share"
    share.mkdir()
    scan = render_form(300).rotate(1.5, resample=Image.Resampling.BICUBIC, fillcolor=255)
    (share / "form.png").write_bytes(png_bytes(scan))
    s = run(ocr_settings, share)
    assert s.items["form.png"].ocr == "read"
    assert WANTED <= _found(s, "form.png")


def test_phone_photo_of_a_form(ocr_settings, tmp_path):
    """The form photographed on a desk, in perspective, darker on one side, as a JPEG."""
    share = tmp_path / "share"
    share.mkdir()
    corners = [(420, 330), (2640, 470), (2760, 3600), (300, 3720)]
    photo = photographed(render_form(300), corners)
    (share / "IMG_0412.jpg").write_bytes(png_bytes(photo, "JPEG", quality=85))
    s = run(ocr_settings, share)
    assert s.items["IMG_0412.jpg"].ocr == "read"
    assert WANTED <= _found(s, "IMG_0412.jpg")


def test_upside_down_page_is_read_once(logged_tesseract):
    """The way up is told from the ink above and below the lines, so Tesseract reads an
    upside-down letter once, already turned, rather than upright first and then again."""
    settings, share = logged_tesseract.settings, logged_tesseract.share
    (share / "scan.png").write_bytes(png_bytes(render_letter(300).rotate(180)))
    s = run(settings, share)
    assert s.items["scan.png"].ocr == "read"
    assert {"UK_NHS", "UK_UPN", "PERSON"} <= _found(s, "scan.png")
    assert logged_tesseract.calls() == 1
