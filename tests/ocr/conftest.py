"""Pictures of paper made by the tests: a letter rendered with Pillow at a given dpi,
turned, skewed or photographed; an image-only PDF built from such pages (reportlab)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

# The NHS number is a widely published example; its check digit worked by hand:
# 9,4,3,4,7,6,5,9,1 weighted 10..2 sum to 299, 11 - (299 mod 11) = 9. The UPN is the one
# the format tests use (tests/formats/conftest.py).
UPN = "U820200014013"
NHS = "943 476 5919"
LETTER = [
    "Oakfield Primary School",
    "Medical consent form",
    "",
    "Pupil: Amelia Khan    Class: Year 4",
    "Date of birth: 14/03/2015",
    f"NHS number: {NHS}",
    f"UPN: {UPN}",
    "Parent or carer: telephone 020 7946 0123",
    "I consent to my child receiving first aid and the medication named below.",
    "Please return this form to the school office by Friday.",
]


def render_letter(dpi: int = 300, lines: list[str] | None = None) -> Image.Image:
    """An A4 page (greyscale) with the letter's lines in 12 pt type."""
    w, h = int(8.27 * dpi), int(11.69 * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=int(12 / 72 * dpi))
    y = dpi
    for line in (LETTER if lines is None else lines):
        draw.text((dpi, y), line, font=font, fill=0)
        y += int(20 / 72 * dpi)
    return img


def png_bytes(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def image_pdf(pages: list[Image.Image], dpi: int = 150) -> bytes:
    """A PDF whose pages are pictures only (no text layer), as a scanner makes them."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    for page in pages:
        c.drawImage(ImageReader(page), 0, 0, width=595, height=842)
        c.showPage()
    c.save()
    return buf.getvalue()


def photo_of_children(size=(1600, 1200)) -> Image.Image:
    """A stand-in for a playground photo: sky, grass and figures in school colours."""
    img = Image.new("RGB", size, (110, 170, 235))
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle([0, h * 0.55, w, h], fill=(70, 150, 60))
    for i in range(6):
        x = 120 + i * 240
        draw.ellipse([x, h * 0.30, x + 90, h * 0.30 + 90], fill=(225, 185, 150))
        draw.rectangle([x - 20, h * 0.30 + 95, x + 110, h * 0.75], fill=(160, 20, 40))
        draw.rectangle([x, h * 0.75, x + 90, h * 0.92], fill=(40, 40, 60))
    return img


@pytest.fixture
def ocr_settings(dw_home: Path, tmp_path: Path):
    from tests.formats.conftest import make_settings
    return make_settings(tmp_path, "workers: 1")
