"""PDF through PDFium (pypdfium2): fast, and robust against most damaged files.

The letters and digits of each page's text layer are counted (``page_text_chars``): a
scanned page has no text layer (or a stray one, a scanner's stamp), and text recognition
looks at pages with (almost) none (classifiers/ocr_item.py)."""
from __future__ import annotations

from .base import EncryptedItem, Extracted, TextBuilder


def extract_pdf(data: bytes) -> Extracted:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise EncryptedItem("PDF needs a password to open") from None
        raise
    builder = TextBuilder()
    chars = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            builder.add(text, f"page {i + 1}")
            chars.append(sum(ch.isalnum() for ch in text))
            textpage.close()
            page.close()
    finally:
        pdf.close()
    doc = builder.build()
    doc.page_text_chars = chars
    return doc
