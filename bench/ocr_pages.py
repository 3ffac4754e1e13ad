"""Pages for bench/ocr_bench.py: school letters and forms drawn with reportlab and
rendered with PDFium, damaged the way scanners and phones damage paper; and a share of
typed documents with 5% scanned ones."""
from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

A4 = (595.0, 842.0)


def _pdf(layout: str, p, nino: str) -> bytes:
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica-Bold", 15)
    c.drawString(60, 790, "Oakfield Primary School")
    c.setFont("Helvetica", 10)
    c.drawString(60, 774, "Mill Road, Oakfield  ·  office@oakfield.sch.uk")
    name, dob = f"{p.forename} {p.surname}", p.dob.strftime("%d/%m/%Y")
    if layout == "letter":
        c.setFont("Times-Roman", 12)
        lines = ["12 September 2025", "", f"Dear parent or carer of {name},", "",
                 "Thank you for returning the admission pack. Please check the details we hold",
                 f"for {name}: date of birth {dob}, UPN {p.upn}, ULN {p.uln}.",
                 f"The NHS number on the health form is {p.nhs}.",
                 f"Home address: {p.street}, Oakfield {p.postcode}.",
                 f"Contact telephone {p.phone}. Parent NI number {nino}.",
                 "", "If anything is wrong, please tell the school office before the end of the",
                 "month so that our records are right for the census.", "", "Yours sincerely,",
                 "", "Mrs J. Hartley, School Business Manager"]
        y = 730
        for line in lines:
            c.drawString(60, y, line)
            y -= 18
    else:
        c.setFont("Helvetica-Bold", 13)
        c.drawString(60, 730, "Pupil information form (please check and return)")
        fields = [("Pupil name", name), ("Date of birth", dob), ("UPN", p.upn), ("ULN", p.uln),
                  ("NHS number", p.nhs), ("Postcode", p.postcode), ("Telephone", p.phone),
                  ("Parent NI number", nino)]
        y = 690
        for label, value in fields:
            c.rect(60, y - 8, 470, 28)
            c.line(200, y - 8, 200, y + 20)
            c.setFont("Helvetica", 11)
            c.drawString(68, y + 2, label + ":")
            c.setFont("Courier", 12)
            c.drawString(210, y + 2, value)
            y -= 36
        c.setFont("Helvetica", 10)
        c.drawString(60, y - 20, "Signed: ______________________   Date: ____________")
    c.showPage()
    c.save()
    return buf.getvalue()


def render_page(layout: str, pupil, nino: str, dpi: int) -> Image.Image:
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(_pdf(layout, pupil, nino))
    try:
        return pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        pdf.close()


def scanner_noise(img: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    a = np.asarray(img, dtype=np.float32)
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, sigma, a.shape)
    return Image.fromarray(np.clip(a + noise, 0, 255).astype(np.uint8))


def _perspective_coeffs(dst, src):
    """Coefficients for Image.transform: output quad ``dst`` -> input points ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    rhs = [c for pt in src for c in pt]
    return np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float)).tolist()


def phone_photo(page: Image.Image, rng: random.Random) -> Image.Image:
    """The page photographed on a desk: 12 MP frame, perspective, uneven light, blur."""
    fw, fh = 3024, 4032
    scale = 0.80 * fh / page.height
    pw, ph = int(page.width * scale), int(page.height * scale)
    x0, y0 = (fw - pw) // 2, (fh - ph) // 2
    def j() -> float:
        return rng.uniform(-0.035, 0.035)

    dst = [(x0 + j() * fw, y0 + j() * fh), (x0 + pw + j() * fw, y0 + j() * fh),
           (x0 + pw + j() * fw, y0 + ph + j() * fh), (x0 + j() * fw, y0 + ph + j() * fh)]
    src = [(0, 0), (page.width, 0), (page.width, page.height), (0, page.height)]
    coeffs = _perspective_coeffs(dst, src)
    paper = Image.merge("RGB", [page.point(lambda v, k=k: v * k / 255) for k in (238, 230, 214)])
    warped = paper.transform((fw, fh), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    mask = Image.new("L", page.size, 255).transform((fw, fh), Image.Transform.PERSPECTIVE, coeffs)
    desk = Image.new("RGB", (fw, fh), (118, 86, 58))
    photo = Image.composite(warped, desk, mask)
    light = np.linspace(1.0, 0.72, fw, dtype=np.float32)[None, :, None]
    a = np.asarray(photo, dtype=np.float32) * light
    a += np.random.default_rng(rng.randint(0, 2**31)).normal(0, 5, a.shape)
    photo = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return photo.filter(ImageFilter.GaussianBlur(1.1))


def build_share(root: Path, n_files: int, seed: int = 5) -> int:
    """Typed letters (txt, docx, text PDF) and 5% image-only PDFs; returns how many of
    those."""
    import docx
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from dataward.synthetic import make_nino, make_pupils
    rng = random.Random(seed)
    root.mkdir(parents=True)
    pupils = make_pupils(max(10, n_files // 4), seed=seed)
    n_image = max(1, round(n_files * 0.05))
    for i in range(n_files):
        p = pupils[i % len(pupils)]
        text = (f"Report for {p.forename} {p.surname} (UPN {p.upn}).\n"
                + "Reading and writing have come on well this term; homework is on time.\n" * 30)
        if i < n_image:
            buf = io.BytesIO()
            c = canvas.Canvas(buf, pagesize=A4)
            for k in range(1 + i % 2):
                page = render_page("form" if k else "letter", p, make_nino(rng), 200)
                c.drawImage(ImageReader(scanner_noise(page, rng, 6)), 0, 0, width=A4[0], height=A4[1])
                c.showPage()
            c.save()
            (root / f"scan{i:03d}.pdf").write_bytes(buf.getvalue())
        elif i % 3 == 0:
            d = docx.Document()
            for line in text.splitlines():
                d.add_paragraph(line)
            d.save(root / f"report{i:03d}.docx")
        elif i % 3 == 1:
            buf = io.BytesIO()
            c = canvas.Canvas(buf, pagesize=A4)
            y = 800
            for line in text.splitlines():
                c.drawString(50, y, line)
                y -= 14
            c.save()
            (root / f"report{i:03d}.pdf").write_bytes(buf.getvalue())
        else:
            (root / f"note{i:03d}.txt").write_text(text)
    return n_image
