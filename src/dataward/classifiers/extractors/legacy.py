"""Legacy Office (OLE2 compound files) and RTF.

- .xls through xlrd; .doc through Debian's catdoc (text on stdin and stdout, nothing on
  disk) when it is installed, else the item is `unsupported`.
- Encryption is recognised with msoffcrypto-tool: a password-protected .doc, .xls or .ppt,
  and an encrypted .docx/.xlsx/.pptx (an OLE2 file holding EncryptedPackage), are
  `encrypted`, not `error`.
- The content decides what an OLE2 file is (its streams), not its name: a .doc that is
  really a workbook is read as one.
- RTF through striprtf."""
from __future__ import annotations

import io
import shutil
import subprocess
from functools import partial

from .base import EncryptedItem, Extracted, TextBuilder, UnsupportedFormat
from .tables import table_rows
from .text import cell_label, decode

CATDOC_TIMEOUT_S = 30


def ole_kind(data: bytes) -> str:
    """doc | xls | ppt | msg | ooxml-encrypted | ole, from the compound file's streams."""
    import olefile

    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        streams = {"/".join(s) for s in ole.listdir()}
    if "EncryptedPackage" in streams:
        return "ooxml-encrypted"
    if "WordDocument" in streams:
        return "doc"
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "PowerPoint Document" in streams:
        return "ppt"
    if any(s.startswith("__substg1.0_") for s in streams):
        return "msg"
    return "ole"


def _encrypted(data: bytes) -> bool:
    import msoffcrypto

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # noqa: BLE001 - not a format msoffcrypto knows: not its call
        return False


_NAMES = {"doc": "Word", "xls": "Excel", "ppt": "PowerPoint", "ooxml-encrypted": "Office"}


def extract_ole(data: bytes, expected: str | None = None) -> Extracted:
    kind = ole_kind(data)
    if kind == "ooxml-encrypted" or (kind in ("doc", "xls", "ppt") and _encrypted(data)):
        raise EncryptedItem(f"password-protected {_NAMES[kind]} document")
    if kind == "xls":
        return _xls(data)
    if kind == "doc":
        return _doc(data)
    if kind == "msg":
        from . import EXTRACTORS
        if "msg" in EXTRACTORS and expected != "msg":
            return EXTRACTORS["msg"](data)
    raise UnsupportedFormat(kind)


def extract_xls(data: bytes) -> Extracted:
    return extract_ole(data, "xls")


def extract_doc(data: bytes) -> Extracted:
    return extract_ole(data, "doc")


def _xls(data: bytes) -> Extracted:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise EncryptedItem("password-protected Excel document") from None
        raise
    builder = TextBuilder()
    try:
        for sheet in book.sheets():
            name = sheet.name
            builder.add(f"Sheet: {name}", f"{name}!A1")
            rows = (sheet.row_values(r) for r in range(sheet.nrows))
            table_rows(rows, partial(cell_label, name), builder)
    finally:
        book.release_resources()
    return builder.build()


def _doc(data: bytes) -> Extracted:
    catdoc = shutil.which("catdoc")
    if catdoc is None:
        raise UnsupportedFormat("doc (install catdoc to read Word 97-2003 files)")
    # catdoc reads the document on stdin: the bytes never touch the disk.
    proc = subprocess.run([catdoc, "-d", "utf-8", "-w"], input=data, capture_output=True,
                          timeout=CATDOC_TIMEOUT_S, check=False)
    if proc.returncode != 0:
        raise ValueError("catdoc could not read the document")
    builder = TextBuilder()
    for n, para in enumerate(proc.stdout.decode("utf-8", "replace").split("\n\n"), start=1):
        builder.add(para.strip(), f"paragraph {n}")
    return builder.build()


def extract_rtf(data: bytes) -> Extracted:
    from striprtf.striprtf import rtf_to_text

    text = str(rtf_to_text(decode(data), errors="replace"))
    builder = TextBuilder()
    for n, para in enumerate(text.split("\n"), start=1):
        builder.add(para.strip(), f"line {n}")
    return builder.build()
