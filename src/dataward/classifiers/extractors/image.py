"""Photos (JPEG, PNG, TIFF, HEIC): where and when they were taken, and who wrote what in
them. Only the metadata is read; pixels are never decoded.

- EXIF GPS latitude and longitude become a ``GPS_LOCATION`` finding (masked in every
  output; the fingerprint lets two photos from one place be matched). A GPS block with
  no coordinates (a version tag only) is not a location.
- The camera date (DateTimeOriginal, else DateTime) is named in that finding's ``where``.
- Text fields people fill in (EXIF description, artist, Windows XP title/author/comment,
  user comment; XMP PersonInImage, subjects, titles, region names; IPTC keywords and
  captions; PNG text chunks) are the image's text, each marked with its tag
  (``xmp:PersonInImage``): a pupil's name there is found like in any document. They are
  read by ``classifiers/image_metadata``, the reader retention uses too.
A pupil's name in the file name is found by the scan from the path (``path_names``)."""
from __future__ import annotations

from typing import Any

from ..image_metadata import (
    DATE,
    DATE_ORIGINAL,
    EXIF_IFD,
    GPS_IFD,
    image_tags,
    open_image,
    text_of,
)
from .base import Extracted, TextBuilder

IMAGE_FORMATS = frozenset({"jpeg", "png", "tiff", "heic"})


def _degrees(value: Any, ref: object) -> float | None:  # EXIF rationals, as Pillow reads them
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


def gps_position(gps: dict[int, Any]) -> tuple[float, float] | None:
    """(latitude, longitude) from a GPS IFD, or None when it holds no usable position."""
    lat = _degrees(gps.get(2), gps.get(1, "N")) if 2 in gps else None
    lon = _degrees(gps.get(4), gps.get(3, "E")) if 4 in gps else None
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    if lat == 0 and lon == 0:  # an empty GPS block some cameras write
        return None
    return lat, lon


def extract_image(data: bytes) -> Extracted:
    with open_image(data) as img:
        exif = img.getexif()
        tags = image_tags(img)
    exif_ifd = exif.get_ifd(EXIF_IFD)
    builder = TextBuilder()
    for source, text in tags:
        builder.add(text, source)
    doc = builder.build()
    taken = text_of(exif_ifd.get(DATE_ORIGINAL) or exif.get(DATE) or "")
    doc.taken = _date(taken) if taken.strip() else ""
    position = gps_position(dict(exif.get_ifd(GPS_IFD)))
    if position:
        where = "EXIF GPS" + (f", taken {_date(taken)}" if taken else "")
        doc.extra.append(("GPS_LOCATION", f"{position[0]:.6f},{position[1]:.6f}", where))
    return doc


def _date(exif_date: str) -> str:
    """EXIF's ``2008:10:22 16:28:39`` as ``2008-10-22 16:28``."""
    date, _, time = exif_date.partition(" ")
    return date.replace(":", "-") + (f" {time[:5]}" if time else "")
