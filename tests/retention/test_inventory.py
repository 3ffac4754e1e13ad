"""The inventory walk: real JPEG metadata, and no symlink ever followed."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataward.errors import PathOutsideRootsError
from dataward.retention.inventory import build_inventory, read_tags
from tests.samples import SAMPLES as _ALL_SAMPLES

from .conftest import make_jpeg, xmp_people

EXTS = [".jpg", ".jpeg", ".png"]


def test_people_and_keywords_from_exif_xmp_and_iptc(tmp_path: Path):
    p = make_jpeg(tmp_path / "a.jpg", xp_keywords="Jane Doe;Sports Day", description="Year 6",
                  xmp=xmp_people("Omar Khan", subjects=("Trip",)), iptc=["Zoe OBrien", "Trip"])
    tags = read_tags(p)
    assert ("exif:XPKeywords", "Jane Doe;Sports Day") in tags
    assert ("exif:ImageDescription", "Year 6") in tags
    assert ("xmp:PersonInImage", "Omar Khan") in tags and ("xmp:subject", "Trip") in tags
    assert ("iptc:Keywords", "Zoe OBrien") in tags


def test_png_xmp_is_read(tmp_path: Path):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_people("Jane Doe").decode())
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png", pnginfo=info)
    assert ("xmp:PersonInImage", "Jane Doe") in read_tags(tmp_path / "a.png")


def test_symlinks_are_counted_never_followed(tmp_path: Path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    make_jpeg(root / "real" / "a.jpg")
    make_jpeg(outside / "Jane Doe.jpg")
    os.symlink(outside, root / "link-to-outside")  # a folder link
    os.symlink(outside / "Jane Doe.jpg", root / "real" / "Jane Doe.jpg")  # a file link
    make_jpeg(root / ".dataward-quarantine" / "rp-x" / "000001.jpg")
    inv = build_inventory([root], extensions=EXTS, quarantine_dirname=".dataward-quarantine")
    assert [i.rel for i in inv.items] == ["real/a.jpg"]
    assert inv.symlinks_skipped == 2


def test_a_root_that_is_a_symlink_is_refused(tmp_path: Path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    with pytest.raises(PathOutsideRootsError, match="symlink"):
        build_inventory([tmp_path / "link"], extensions=EXTS, quarantine_dirname="q")
    with pytest.raises(PathOutsideRootsError, match="does not exist"):
        build_inventory([tmp_path / "nope"], extensions=EXTS, quarantine_dirname="q")


def test_damaged_images_are_counted_and_still_listed(tmp_path: Path):
    (tmp_path / "Jane Doe.jpg").write_bytes(b"\xff\xd8\xff\xe1 not really a jpeg")
    inv = build_inventory([tmp_path], extensions=EXTS, quarantine_dirname="q")
    assert [i.rel for i in inv.items] == ["Jane Doe.jpg"] and inv.unreadable_tags == 1


SAMPLES = _ALL_SAMPLES / "exif-samples"


def test_real_camera_and_phone_images_are_read(tmp_path: Path):
    """Real files from cameras, phones and Photoshop (see tests/data/samples/SOURCES.md)."""
    tags = read_tags(SAMPLES / "no_exif.jpg")  # Photoshop: XMP dc:*, IPTC caption/keywords
    assert ("xmp:subject", "tag") in tags and ("iptc:Caption", "Der Goalie bin ig") in tags
    inv = build_inventory([SAMPLES], extensions=[".jpg", ".heic"], quarantine_dirname="q")
    assert len(inv.items) == 9 and inv.unreadable_tags == 0  # the iPhone HEIC included
