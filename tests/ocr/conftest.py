"""Pictures of paper made by the tests: a letter rendered with Pillow at a given dpi,
turned, skewed or photographed; an image-only PDF built from such pages (reportlab)."""
from __future__ import annotations

import io
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# A pupil information form as schools print them: each label and value in a box ruled
# across and down. The values are the ones above (worked by hand) and a real postcode
# (Buckingham Palace's, widely published).
FORM = [("Pupil name", "Amelia Khan"), ("Date of birth", "14/03/2015"), ("UPN", UPN),
        ("NHS number", NHS), ("Postcode", "SW1A 1AA"), ("Telephone", "020 7946 0123")]


def render_form(dpi: int = 300) -> Image.Image:
    """An A4 form (greyscale) with a ruled box round every row and a rule between the
    label and its value, 1 pt lines, 12 pt type."""
    pt = dpi / 72
    w, h = int(8.27 * dpi), int(11.69 * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=int(12 * pt))
    draw.text((int(60 * pt), int(70 * pt)), "Pupil information form (please check and return)",
              font=ImageFont.load_default(size=int(14 * pt)), fill=0)
    y = 110 * pt
    for label, value in FORM:
        box = [int(60 * pt), int(y), int(530 * pt), int(y + 28 * pt)]
        draw.rectangle(box, outline=0, width=max(1, int(pt)))
        draw.line([int(200 * pt), box[1], int(200 * pt), box[3]], fill=0, width=max(1, int(pt)))
        draw.text((int(68 * pt), int(y + 7 * pt)), label + ":", font=font, fill=0)
        draw.text((int(210 * pt), int(y + 7 * pt)), value, font=font, fill=0)
        y += 36 * pt
    return img


def photographed(page: Image.Image, corners: list[tuple[float, float]],
                 frame: tuple[int, int] = (3024, 4032)) -> Image.Image:
    """``page`` photographed on a desk: its corners (top left, top right, bottom right,
    bottom left) at ``corners`` of a phone's frame, warm light fading to one side."""
    import numpy as np
    src = [(0, 0), (page.width, 0), (page.width, page.height), (0, page.height)]
    rows, rhs = [], []
    for (x, y), (u, v) in zip(corners, src):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows, float), np.array(rhs, float)).tolist()
    paper = Image.merge("RGB", [page.point(lambda v, k=k: v * k // 255) for k in (240, 232, 215)])
    warped = paper.transform(frame, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    mask = Image.new("L", page.size, 255).transform(frame, Image.Transform.PERSPECTIVE, coeffs)
    photo = Image.composite(warped, Image.new("RGB", frame, (120, 88, 60)), mask)
    light = np.linspace(1.0, 0.7, frame[0], dtype=np.float32)[None, :, None]
    return Image.fromarray((np.asarray(photo, dtype=np.float32) * light).astype(np.uint8))


@dataclass
class LoggedTesseract:
    settings: Any        # scan settings whose tesseract is the logging wrapper
    share: Path          # an empty folder to scan
    log: Path

    def calls(self) -> int:
        """How many recognitions reached the real Tesseract (asking for its languages
        does not count)."""
        return self.log.read_text().count("call") if self.log.exists() else 0


@pytest.fixture
def logged_tesseract(dw_home: Path, tmp_path: Path) -> LoggedTesseract:
    """A wrapper around the real tesseract that logs each recognition, in the settings."""
    from tests.formats.conftest import make_settings
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "tesseract-logged"
    wrapper.write_text(f'#!/bin/sh\ncase "$*" in *--list-langs*) ;; *) echo call >> "{log}";; esac\n'
                       'exec tesseract "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    settings = make_settings(tmp_path, "workers: 1")
    settings.ocr.tesseract_cmd = str(wrapper)
    share = tmp_path / "share"
    share.mkdir()
    return LoggedTesseract(settings, share, log)
