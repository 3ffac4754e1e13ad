"""Extractors: bytes of one item -> ``Extracted`` text with marks. One entry per format;
a format with no entry is `unsupported`."""
from __future__ import annotations

from collections.abc import Callable

from .base import EncryptedItem, Extracted, Member, TextBuilder, UnsupportedFormat
from .formats import FORMAT_EXTRACTORS
from .mail_mbox import extract_mbox
from .mail_message import extract_eml
from .mail_outlook import extract_msg_file, extract_tnef
from .mail_pst import extract_pst
from .office import extract_xlsx
from .pdf import extract_pdf
from .text import extract_csv, extract_html, extract_json, extract_text, extract_tsv
from .word import extract_docx

EXTRACTORS: dict[str, Callable[[bytes], Extracted]] = {
    "txt": extract_text, "csv": extract_csv, "tsv": extract_tsv, "html": extract_html,
    "json": extract_json, "docx": extract_docx, "xlsx": extract_xlsx, "pdf": extract_pdf,
    # Mail: messages and containers of messages (classifiers/extractors/mail_*.py).
    "eml": extract_eml, "mbox": extract_mbox, "msg": extract_msg_file, "pst": extract_pst,
    "tnef": extract_tnef,
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
