"""Fixtures for retention tests: real JPEGs with EXIF/XMP/IPTC made by Pillow, MIS CSV
exports as schools send them, and a config pointing dataward at them."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest

from dataward.pipelines.names import upn_check_letter


def make_upn(serial: int) -> str:
    body = f"82020010{serial:04d}"
    return upn_check_letter(body) + body


def xmp_people(*names: str, subjects: tuple[str, ...] = ()) -> bytes:
    li = "".join(f"<rdf:li>{n}</rdf:li>" for n in names)
    subj = "".join(f"<rdf:li>{n}</rdf:li>" for n in subjects)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<Iptc4xmpExt:PersonInImage><rdf:Bag>{li}</rdf:Bag></Iptc4xmpExt:PersonInImage>"
        f"<dc:subject><rdf:Bag>{subj}</rdf:Bag></dc:subject>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode("utf-8")


def iptc_segment(keywords: list[str]) -> bytes:
    """An APP13 Photoshop segment holding IPTC-IIM keywords (2:25), as cameras and
    photo managers write it."""
    iim = b"".join(b"\x1c\x02\x19" + struct.pack(">H", len(k.encode())) + k.encode()
                   for k in keywords)
    if len(iim) % 2:
        iim += b"\x00"
    irb = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iim)) + iim
    body = b"Photoshop 3.0\x00" + irb
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def make_jpeg(path: Path, *, seed: int = 0, xp_keywords: str | None = None,
              description: str | None = None, xmp: bytes | None = None,
              iptc: list[str] | None = None) -> Path:
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGB", (16, 16), ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    exif = Image.Exif()
    if xp_keywords:
        exif[0x9C9E] = (xp_keywords + "\x00").encode("utf-16-le")
    if description:
        exif[0x010E] = description
    buf = BytesIO()
    kwargs = {"exif": exif} if len(exif) else {}
    if xmp:
        kwargs["xmp"] = xmp
    im.save(buf, "JPEG", **kwargs)
    data = buf.getvalue()
    if iptc:
        data = data[:2] + iptc_segment(iptc) + data[2:]
    path.write_bytes(data)
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@dataclass
class School:
    root: Path
    leavers: Path
    on_roll: Path
    consent: Path
    outside: Path
    upns: dict[str, str]


LEAVERS = ("UPN,Legal Forename,Legal Surname,Preferred Forename,Date of Leaving\n"
           "{jane},Jane,Doe,,21/07/2023\n"
           "{omar},Omar,Khan,,2023-07-21\n"
           "{lily},Lily,Evans,,21.07.2023\n"
           "{zoe},Zoë,O'Brien,,20 Jul 2023\n")
ON_ROLL = "UPN,Forename,Surname\n{sam},Sam,Roll\n{amy},Amy,Stone\n"
CONSENT = "UPN,Name,Photo archive,Website\n{lily},Lily Evans,Yes,No\n{omar},Omar Khan,No,No\n"


@pytest.fixture
def school(tmp_path: Path) -> School:
    """Photos of leavers and pupils on roll, named every way schools name them."""
    upns = {k: make_upn(i) for i, k in enumerate(["jane", "omar", "lily", "zoe", "sam", "amy"], 1)}
    root = tmp_path / "photos"
    make_jpeg(root / "Pupils" / "Jane Doe" / "portrait.jpg", seed=1)          # folder per pupil
    make_jpeg(root / "Pupils" / "Jane Doe" / "sports day.jpg", seed=2)
    make_jpeg(root / "Class 6" / "Khan_Omar_2023.jpg", seed=3)                 # file name
    make_jpeg(root / "Class 6" / "IMG_0001.jpg", seed=4, xmp=xmp_people("Jane Doe", "Sam Roll"))  # group, one on roll
    make_jpeg(root / "Class 6" / "IMG_0002.jpg", seed=5, xmp=xmp_people("Jane Doe", "Omar Khan"))  # group, all left
    make_jpeg(root / "Class 6" / "IMG_0003.jpg", seed=6, iptc=["Zoe OBrien", "trip"])  # IPTC keywords
    make_jpeg(root / "Class 6" / "IMG_0004.jpg", seed=7, xp_keywords="Lily Evans")  # consent: archive
    make_jpeg(root / "Class 6" / f"{upns['zoe']}.jpg", seed=8)                 # UPN as file name
    make_jpeg(root / "Class 6" / "IMG_0005.jpg", seed=9)                       # names nobody
    make_jpeg(root / "Class 6" / "Jane.jpg", seed=10)                          # forename only: nobody
    make_jpeg(root / "Class 5" / "Amy Stone.jpg", seed=11)                     # on roll
    tmp = tmp_path / "mis"
    tmp.mkdir()
    leavers = write_csv(tmp / "leavers.csv", LEAVERS.format(**upns))
    on_roll = write_csv(tmp / "pupils.csv", ON_ROLL.format(**upns))
    consent = write_csv(tmp / "consent.csv", CONSENT.format(**upns))
    outside = tmp_path / "outside"
    outside.mkdir()
    return School(root, leavers, on_roll, consent, outside, upns)


@pytest.fixture
def configured(dw_home: Path, school: School) -> School:
    """A config in the state folder pointing retention at the school's files."""
    (dw_home / "dataward.yaml").write_text(
        "retention:\n"
        f"  leavers_csv: {school.leavers}\n"
        f"  on_roll_csv: {school.on_roll}\n"
        f"  consent_csv: {school.consent}\n"
        f"  image_roots: [{school.root}]\n"
        "  grace_days: 90\n", encoding="utf-8")
    return school
