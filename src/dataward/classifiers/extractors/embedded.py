"""Objects embedded in an Office file (a workbook, a zip or a PDF inserted into a Word
document, a slide deck or a workbook): each becomes a member, read like any other item.

Office keeps them under ``word/embeddings/``, ``xl/embeddings/``, ``ppt/embeddings/``.
A package (``.xlsx``, ``.docx``) is stored as it is; anything else is wrapped in an OLE2
file whose ``Ole10Native`` stream holds the original file's name and bytes."""
from __future__ import annotations

import io
import struct
import zipfile

from .base import Member

EMBEDDING_FOLDERS = ("word/embeddings/", "xl/embeddings/", "ppt/embeddings/")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An embedded object counts against the item's memory like the item: cap what is taken.
MAX_EMBEDDED_BYTES = 64 << 20


def embedded_members(zf: zipfile.ZipFile) -> list[Member]:
    """The embedded objects of an OOXML package, unwrapped from OLE10Native when wrapped."""
    members = []
    for info in zf.infolist():
        if not info.filename.startswith(EMBEDDING_FOLDERS) or info.is_dir():
            continue
        name = info.filename.split("/", 1)[1]
        if info.file_size > MAX_EMBEDDED_BYTES:
            members.append(Member(name, None, status="skipped", size=info.file_size,
                                  error="embedded object larger than the 64 MB cap"))
            continue
        data = zf.read(info)
        inner = _ole10_native(data) if data[:8] == OLE_MAGIC else None
        if inner is not None:
            inner_name, data = inner
            name = f"{name}/{inner_name}" if inner_name else name
        members.append(Member(name, data, size=len(data)))
    return members


def _ole10_native(data: bytes) -> tuple[str, bytes] | None:
    """(file name, bytes) of an OLE 1.0 'Package' object, or None for other OLE objects
    (a legacy .xls or .doc embedded as itself is read by the OLE reader)."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not ole.exists("\x01Ole10Native"):
                return None
            raw = ole.openstream("\x01Ole10Native").read()
    except (OSError, ValueError):
        return None
    try:
        # size (4), type (2), label\0, source path\0, two 4-byte fields (the second is
        # the temporary path's length), temporary path\0, data length (4), data.
        pos = 6
        label_end = raw.index(b"\0", pos)
        label = raw[pos:label_end].decode("latin-1")
        pos = raw.index(b"\0", label_end + 1) + 1 + 8
        pos = raw.index(b"\0", pos) + 1
        (size,) = struct.unpack_from("<I", raw, pos)
        pos += 4
        payload = raw[pos:pos + size]
    except (ValueError, struct.error):
        return None
    safe = "".join(ch if ch.isprintable() and ch not in "/\\!#" else "_" for ch in label)[:120]
    return safe, payload
