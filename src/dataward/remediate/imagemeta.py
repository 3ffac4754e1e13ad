"""Keeping an image's old file name in the image's own metadata, when the school asks for
it (``remediate.keep_name_in_metadata``), without touching its pixels.

A rename takes a pupil's name out of a file name (``Layla White sports day.jpg`` ->
``IMG-<id>.jpg``). Some schools want the name kept with the photo, inside it rather than
on the share's listing. It is written where photo software shows a caption:

- JPEG: an EXIF ``ImageDescription`` (ASCII: letters with accents folded, ``Zoë`` ->
  ``Zoe``) and, when the photo has no XMP packet yet, XMP ``dc:description`` (UTF-8, the
  name as written). Only APP1 segments are added or replaced: the compressed image data
  is copied byte for byte.
- PNG: an ``iTXt`` chunk with the keyword ``Description`` (UTF-8), added before ``IEND``:
  the ``IDAT`` chunks are copied byte for byte.
- TIFF (one page): the ``ImageDescription`` tag, by rewriting the file with Pillow in its
  own compression; refused unless the decoded pixels of the result are identical.
- HEIC and anything else: not kept (libheif writes metadata only when it encodes the
  photo again, which would change its pixels); the plan says so before it is approved.

Pure functions over bytes: the file I/O is the remediation's (``remediate.moves``)."""
from __future__ import annotations

import io
import struct
import unicodedata
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import escape

EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
IMAGE_DESCRIPTION = 0x010E
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Described:
    data: bytes | None        # the new content; None: the name cannot be kept
    status: str               # what was (or could not be) done, for the plan and ledger


def ascii_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return folded or "?"


def describe(data: bytes, suffix: str, text: str) -> Described:
    """``data`` with ``text`` written into its metadata as a description, or why not."""
    ext = suffix.lower()
    try:
        if ext in (".jpg", ".jpeg") and data[:2] == b"\xff\xd8":
            return _jpeg(data, text)
        if ext == ".png" and data.startswith(PNG_SIGNATURE):
            return _png(data, text)
        if ext in (".tif", ".tiff"):
            return _tiff(data, text)
    except (ValueError, OSError, struct.error) as exc:
        return Described(None, f"name not kept: the {ext[1:].upper()} file could not be "
                               f"read ({type(exc).__name__})")
    if ext in (".heic", ".heif"):
        return Described(None, "name not kept: HEIC metadata can only be written by encoding "
                               "the photo again, which would change its pixels")
    return Described(None, f"name not kept: dataward does not write {ext[1:].upper() or 'this'} "
                           "metadata")


def _segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """JPEG marker segments before the scan, and everything from SOS on (kept as is)."""
    pos, segs = 2, list[tuple[int, bytes]]()
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("not a JPEG marker")
        marker = data[pos + 1]
        if marker == 0xDA:        # start of scan: the image data, copied untouched
            return segs, data[pos:]
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        segs.append((marker, data[pos + 4:pos + 2 + length]))
        pos += 2 + length
    raise ValueError("no image data in the JPEG")


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("metadata segment too large")
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _xmp(text: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li>'
        '</rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>'
        '<?xpacket end="w"?>').encode()


def _jpeg(data: bytes, text: str) -> Described:
    from PIL import Image
    segs, scan = _segments(data)
    exif = Image.Exif()
    old = next((p for m, p in segs if m == 0xE1 and p.startswith(EXIF_HEADER)), None)
    if old is not None:
        exif.load(old)
    exif[IMAGE_DESCRIPTION] = ascii_fold(text)
    new_exif = exif.tobytes()
    if not new_exif.startswith(EXIF_HEADER):
        new_exif = EXIF_HEADER + new_exif
    has_xmp = any(m == 0xE1 and p.startswith(XMP_HEADER) for m, p in segs)
    out, placed = [b"\xff\xd8"], False
    for m, p in segs:
        if m == 0xE1 and p.startswith(EXIF_HEADER):
            if not placed:
                out.append(_segment(0xE1, new_exif))
                placed = True
            continue
        if not placed and m not in (0xE0,):     # EXIF goes after JFIF's APP0, first else
            out.append(_segment(0xE1, new_exif))
            placed = True
        out.append(_segment(m, p))
    if not placed:
        out.append(_segment(0xE1, new_exif))
    where = "EXIF ImageDescription"
    if not has_xmp:
        out.insert(len(out), _segment(0xE1, XMP_HEADER + _xmp(text)))
        where += " and XMP dc:description"
    return Described(b"".join(out) + scan, f"name kept in {where}")


def _png(data: bytes, text: str) -> Described:
    end = data.rfind(b"IEND")
    if end < 4 + len(PNG_SIGNATURE):
        raise ValueError("no IEND chunk")
    start = end - 4                                   # the IEND chunk's length field
    payload = b"Description\x00\x00\x00\x00\x00" + text.encode("utf-8")
    chunk = (struct.pack(">I", len(payload)) + b"iTXt" + payload
             + struct.pack(">I", zlib.crc32(b"iTXt" + payload) & 0xFFFFFFFF))
    return Described(data[:start] + chunk + data[start:], "name kept in PNG iTXt Description")


def _tiff(data: bytes, text: str) -> Described:
    from PIL import Image, TiffImagePlugin
    with Image.open(io.BytesIO(data)) as im:
        if not isinstance(im, TiffImagePlugin.TiffImageFile):
            return Described(None, "name not kept: the file is not a TIFF")
        if getattr(im, "n_frames", 1) != 1:
            return Described(None, "name not kept: a TIFF of several pages is not rewritten")
        pixels, mode, size = im.tobytes(), im.mode, im.size
        info = im.tag_v2
        info[IMAGE_DESCRIPTION] = ascii_fold(text)
        buf = io.BytesIO()
        im.save(buf, format="TIFF", tiffinfo=info,
                compression=im.info.get("compression", "raw"))
    new = buf.getvalue()
    with Image.open(io.BytesIO(new)) as check:
        same = check.mode == mode and check.size == size and check.tobytes() == pixels
    if not same:
        return Described(None, "name not kept: rewriting this TIFF would change its pixels")
    return Described(new, "name kept in TIFF ImageDescription (file rewritten, pixels identical)")
