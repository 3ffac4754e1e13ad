"""PDF through PDFium (pypdfium2): fast, and robust against most damaged files."""
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
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            builder.add(textpage.get_text_range(), f"page {i + 1}")
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return builder.build()
