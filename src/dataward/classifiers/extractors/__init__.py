"""Extractors: bytes of one item -> ``Extracted`` text with marks. One entry per format;
a format with no entry is `unsupported`."""
from __future__ import annotations

from collections.abc import Callable

from .base import EncryptedItem, Extracted, Member, TextBuilder, UnsupportedFormat
from .formats import FORMAT_EXTRACTORS
from .office import extract_docx, extract_xlsx
from .pdf import extract_pdf
from .text import extract_csv, extract_html, extract_json, extract_text, extract_tsv

EXTRACTORS: dict[str, Callable[[bytes], Extracted]] = {
    "txt": extract_text, "csv": extract_csv, "tsv": extract_tsv, "html": extract_html,
    "json": extract_json, "docx": extract_docx, "xlsx": extract_xlsx, "pdf": extract_pdf,
}

# pptx, OpenDocument, RTF, legacy Office, zip/7z, photos (classifiers/extractors/formats.py).
EXTRACTORS.update(FORMAT_EXTRACTORS)


def extract(fmt: str, data: bytes) -> Extracted:
    try:
        fn = EXTRACTORS[fmt]
    except KeyError:
        raise UnsupportedFormat(fmt) from None
    return fn(data)


__all__ = ["EXTRACTORS", "EncryptedItem", "Extracted", "Member", "TextBuilder", "UnsupportedFormat",
           "extract"]
