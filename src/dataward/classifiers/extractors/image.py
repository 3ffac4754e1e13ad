"""Photos (JPEG, PNG, TIFF, HEIC): where and when they were taken, and who wrote what in
them. Only the metadata is read; pixels are never decoded.

- EXIF GPS latitude and longitude become a ``GPS_LOCATION`` finding (masked in every
  output; the fingerprint lets two photos from one place be matched). A GPS block with
  no coordinates (a version tag only) is not a location.
- The camera date (DateTimeOriginal, else DateTime) is named in that finding's ``where``.
- Text fields people fill in (description, artist, Windows XP title/author/comment,
  user comment, PNG text chunks) are the image's text: a pupil's name there is found
  like in any document.
A pupil's name in the file name is found by the scan from the path (``path_names``)."""
from __future__ import annotations

import io

from .base import Extracted, TextBuilder

IMAGE_FORMATS = frozenset({"jpeg", "png", "tiff", "heic"})

_GPS_IFD, _EXIF_IFD = 0x8825, 0x8769
_DATE_ORIGINAL, _DATE = 0x9003, 0x0132
_TEXT_TAGS = {0x010E: "description", 0x013B: "artist", 0x8298: "copyright"}
_XP_TAGS = {0x9C9B: "title", 0x9C9C: "comment", 0x9C9D: "author", 0x9C9E: "keywords",
            0x9C9F: "subject"}
_USER_COMMENT = 0x9286
_heif_registered = False


def _open(data: bytes):
    global _heif_registered
    from PIL import Image
    if not _heif_registered:
        try:
            import pillow_heif
            pillow_heif.register_heif_opener()
        except ImportError:  # HEIC then reads as unsupported by Pillow: an error item
            pass
        _heif_registered = True
    return Image.open(io.BytesIO(data))


def _degrees(value, ref) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    deg = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if str(ref).strip().upper() in ("S", "W"):
        deg = -deg
    return deg


def gps_position(gps: dict) -> tuple[float, float] | None:
    """(latitude, longitude) from a GPS IFD, or None when it holds no usable position."""
    lat = _degrees(gps.get(2), gps.get(1, "N")) if 2 in gps else None
    lon = _degrees(gps.get(4), gps.get(3, "E")) if 4 in gps else None
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    if lat == 0 and lon == 0:  # an empty GPS block some cameras write
        return None
    return lat, lon


def _text(value) -> str:
    if isinstance(value, bytes):
        if value[:8] in (b"ASCII\x00\x00\x00", b"UNICODE\x00"):
            codec = "utf-16" if value.startswith(b"UNICODE") else "ascii"
            value = value[8:].decode(codec, "replace")
        else:
            value = value.decode("utf-8", "replace")
    return str(value).replace("\x00", " ").strip()


def _xp_text(value) -> str:
    if isinstance(value, (bytes, tuple, list)):
        raw = bytes(value)
        return raw.decode("utf-16-le", "replace").replace("\x00", " ").strip()
    return _text(value)


def extract_image(data: bytes) -> Extracted:
    with _open(data) as img:
        exif = img.getexif()
        info = dict(img.info)
        fmt = (img.format or "image").upper()
    exif_ifd = exif.get_ifd(_EXIF_IFD)
    builder = TextBuilder()
    for tag, label in _TEXT_TAGS.items():
        builder.add(_text(exif.get(tag, "")), f"EXIF {label}")
    for tag, label in _XP_TAGS.items():
        builder.add(_xp_text(exif.get(tag, "")), f"EXIF {label}")
    builder.add(_text(exif_ifd.get(_USER_COMMENT, "")), "EXIF user comment")
    if fmt == "PNG":
        for key, value in info.items():
            if isinstance(value, str) and key.lower() not in ("dpi", "gamma"):
                builder.add(value, f"PNG text {key}"[:60])
    doc = builder.build()
    taken = _text(exif_ifd.get(_DATE_ORIGINAL) or exif.get(_DATE) or "")
    doc.taken = _date(taken) if taken.strip() else ""
    position = gps_position(dict(exif.get_ifd(_GPS_IFD)))
    if position:
        where = "EXIF GPS" + (f", taken {_date(taken)}" if taken else "")
        doc.extra.append(("GPS_LOCATION", f"{position[0]:.6f},{position[1]:.6f}", where))
    return doc


def _date(exif_date: str) -> str:
    """EXIF's ``2008:10:22 16:28:39`` as ``2008-10-22 16:28``."""
    date, _, time = exif_date.partition(" ")
    return date.replace(":", "-") + (f" {time[:5]}" if time else "")
