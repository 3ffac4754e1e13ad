"""What format an item is, from its first bytes first and its name second.

Content wins over the extension: a ".docx" that is really a PDF is read as a PDF. Only the
first few KiB are looked at, so an unknown binary is dismissed without reading it whole."""
from __future__ import annotations

import zipfile
from pathlib import PurePath

from .extractors.mail_sniff import (
    TNEF_MAGIC,
    Opener,
    is_outlook_msg,
    looks_like_mbox,
    looks_like_message,
)

HEAD_BYTES = 8192

EXTENSIONS = {
    ".txt": "txt", ".text": "txt", ".log": "txt", ".md": "txt", ".csv": "csv", ".tsv": "tsv",
    ".htm": "html", ".html": "html", ".json": "json", ".docx": "docx", ".docm": "docx",
    ".xlsx": "xlsx", ".xlsm": "xlsx", ".pdf": "pdf", ".pptx": "pptx", ".odt": "odt",
    ".ods": "ods", ".odp": "odp", ".rtf": "rtf", ".xls": "xls", ".doc": "doc", ".zip": "zip",
    ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".gif": "gif", ".tif": "tiff",
    ".tiff": "tiff", ".heic": "heic", ".heif": "heic", ".eml": "eml", ".mbox": "mbox",
    ".msg": "msg", ".pst": "pst", ".xml": "txt",
}

_MAGIC = (
    (b"%PDF-", "pdf"), (b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"), (b"GIF89a", "gif"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
    (b"{\\rtf", "rtf"), (b"!BDN", "pst"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!", "rar"),
    (b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\x7fELF", "binary"), (b"MZ", "binary"),
    (TNEF_MAGIC, "tnef"),
)
_OOXML = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}


def _zip_kind(path_or_bytes: Opener) -> str | None:
    """docx/xlsx/pptx/odt/ods/odp for office containers, zip for other archives, None when
    the zip cannot be opened at all (corrupt)."""
    try:
        with zipfile.ZipFile(path_or_bytes) as zf:
            names = zf.namelist()
            if "mimetype" in names:
                mt = zf.read("mimetype")[:100].decode("ascii", "replace")
                for suffix, kind in (("text", "odt"), ("spreadsheet", "ods"), ("presentation", "odp")):
                    if mt.startswith("application/vnd.oasis.opendocument." + suffix):
                        return kind
            if "[Content_Types].xml" in names:
                for prefix, kind in _OOXML.items():
                    if any(n.startswith(prefix) for n in names):
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, NotImplementedError):
        return None
    return "zip"


def sniff(name: str, head: bytes, opener: Opener | None = None) -> str:
    """The format of an item called ``name`` whose first bytes are ``head``.

    ``opener`` (a path or a file object) lets a zip be looked into to tell OOXML and
    OpenDocument from a plain archive."""
    ext = EXTENSIONS.get(PurePath(name).suffix.lower())
    if not head:
        return ext or "empty"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        zkind = _zip_kind(opener) if opener is not None else None
        return zkind or (ext if ext in ("docx", "xlsx", "pptx", "odt", "ods", "odp") else "zip")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        if ext in ("xls", "doc", "msg", "docx", "xlsx", "pptx"):
            return ext  # OLE2: the name tells which, or an encrypted OOXML file
        return "msg" if is_outlook_msg(head, opener) else "ole"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
        return "heic"
    if head.startswith(b"From ") and (ext == "mbox" or (ext in (None, "txt") and looks_like_mbox(head))):
        return "mbox"
    if ext in (None, "txt", "eml") and looks_like_message(head):
        return "eml"  # a mail message, whatever it is called
    if _is_text(head):
        if ext in (None, "txt", "csv", "tsv", "html", "json", "eml", "rtf", "mbox"):
            return ext or "txt"
        return "txt"  # text behind a binary-looking name: read it as text
    return ext if ext in ("heic",) else "binary" if ext is None else ext


def _is_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    sample = head[:4096]
    bad = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return bad <= len(sample) // 100
