"""The one reader of image metadata, for the scan (names, GPS, camera date) and for
retention (who is in a photo). Pixels are never decoded.

Tags are (source, text) pairs: EXIF text fields (ImageDescription, Artist, Copyright, the
Windows XP title/comment/author/keywords/subject, UserComment), XMP (Iptc4xmpExt
PersonInImage, dc:subject/title/description, Lightroom hierarchicalSubject, MWG and
Microsoft region names; parsed with defusedxml, as Pillow's ``getxmp`` does), IPTC IIM
(keywords, caption, object name) and PNG text chunks."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from PIL.Image import Image

Tag = tuple[str, str]  # (where it came from, e.g. "xmp:PersonInImage", the text)

GPS_IFD, EXIF_IFD = 0x8825, 0x8769
DATE_ORIGINAL, DATE = 0x9003, 0x0132
USER_COMMENT = 0x9286
EXIF_TEXT = {0x010E: "exif:ImageDescription", 0x013B: "exif:Artist", 0x8298: "exif:Copyright",
             0x9C9B: "exif:XPTitle", 0x9C9C: "exif:XPComment", 0x9C9D: "exif:XPAuthor",
             0x9C9E: "exif:XPKeywords", 0x9C9F: "exif:XPSubject"}
XMP_ELEMENTS = {"PersonInImage", "subject", "hierarchicalSubject", "title", "description",
                "Name", "PersonDisplayName", "Keywords"}
XMP_ATTRS = {"Name", "PersonDisplayName", "PersonInImage"}
IPTC = {(2, 25): "iptc:Keywords", (2, 120): "iptc:Caption", (2, 5): "iptc:ObjectName"}
MAX_XMP_BYTES = 1 << 20
_heif_done = False


def open_image(source: bytes | BinaryIO) -> Image:
    """A Pillow image (HEIC too when pillow-heif is installed), pixels not decoded."""
    global _heif_done
    from PIL import Image as PilImage
    if not _heif_done:
        _heif_done = True
        try:
            from pillow_heif import register_heif_opener
            register_heif_opener()
        except ImportError:  # HEIC is then unreadable: an error item, a path-only plan
            pass
    return PilImage.open(io.BytesIO(source) if isinstance(source, bytes) else source)


def text_of(value: object) -> str:
    if isinstance(value, (tuple, list)):  # Pillow gives XP* tags as byte values at times
        value = bytes(value)
    if isinstance(value, bytes):
        if len(value) >= 2 and value[1:2] == b"\x00":
            return value.decode("utf-16-le", errors="ignore").replace("\x00", " ").strip()
        try:
            return value.decode("utf-8").replace("\x00", " ").strip()
        except UnicodeDecodeError:
            return value.decode("cp1252", errors="ignore").replace("\x00", " ").strip()
    return str(value).replace("\x00", " ").strip()


def user_comment(raw: object) -> str:
    if not isinstance(raw, bytes):
        return text_of(raw)
    head, body = raw[:8], raw[8:]
    if head.startswith(b"UNICODE"):
        enc = "utf-16-be" if body[:1] == b"\x00" else "utf-16-le"
        return body.decode(enc, errors="ignore").replace("\x00", " ").strip()
    return text_of(body if head.startswith((b"ASCII", b"\x00\x00")) else raw)


def xmp_tags(xmp: bytes | str) -> list[Tag]:
    """People, keywords, titles and descriptions in an XMP packet. Entity tricks and
    external references are refused (defusedxml); a damaged packet gives no tags."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    data = xmp.encode("utf-8", "ignore") if isinstance(xmp, str) else bytes(xmp)
    if len(data) > MAX_XMP_BYTES:
        return []
    start, end = data.find(b"<x:xmpmeta"), data.rfind(b"</x:xmpmeta>")
    if start >= 0 and end > start:
        data = data[start:end + len(b"</x:xmpmeta>")]
    try:
        root = fromstring(data.strip(b"\x00 \r\n\t"))
    except (ParseError, DefusedXmlException, ValueError):
        return []
    found: list[Tag] = []
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        for key, val in el.attrib.items():
            if key.rsplit("}", 1)[-1] in XMP_ATTRS and val.strip():
                found.append((f"xmp:{key.rsplit('}', 1)[-1]}", val.strip()))
        if local in XMP_ELEMENTS:
            found.extend((f"xmp:{local}", t.strip()) for t in el.itertext() if t.strip())
    return found


def _iptc_tags(im: Image) -> list[Tag]:
    from PIL import IptcImagePlugin
    info = IptcImagePlugin.getiptcinfo(im) or {}  # type: ignore[arg-type]  # a JPEG/TIFF ImageFile
    found: list[Tag] = []
    for key, name in IPTC.items():
        values = info.get(key)
        for v in values if isinstance(values, list) else [values] if values is not None else []:
            found.append((name, text_of(v)))
    return found


def image_tags(im: Image) -> list[Tag]:
    """Every text tag of an open image, in a stable order, empty ones left out."""
    tags: list[Tag] = []
    exif = im.getexif()
    for code, name in EXIF_TEXT.items():
        if code in exif:
            tags.append((name, text_of(exif[code])))
    sub = exif.get_ifd(EXIF_IFD)
    if USER_COMMENT in sub:
        tags.append(("exif:UserComment", user_comment(sub[USER_COMMENT])))
    xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if xmp:
        tags.extend(xmp_tags(xmp))
    if im.format in ("JPEG", "TIFF"):
        tags.extend(_iptc_tags(im))
    if im.format == "PNG":
        for key, value in im.info.items():
            if (isinstance(value, str) and key != "XML:com.adobe.xmp"
                    and str(key).lower() not in ("dpi", "gamma")):
                tags.append((f"png:{key}"[:60], value.strip()))
    return [(src, t) for src, t in tags if t.strip()]
