"""Renaming images named after a pupil: by default the name is gone with the rename; when
the school keeps names (remediate.keep_name_in_metadata), it is written into the image's
own metadata (JPEG, PNG, TIFF) with the image data copied byte for byte, and a HEIC says
it cannot hold it. Real image files, a real scan, the CLI."""
from __future__ import annotations

import csv
import hashlib
import io
import re
import struct
from pathlib import Path

import pytest

from tests.pipelines.conftest import make_roster

BY = "Ann Smith (DPO)"
NAMES = {"jpg": "Amelia Khan sports day.jpg", "png": "Amelia Khan art.png",
         "tiff": "Amelia Khan scan.tiff", "heic": "Amelia Khan party.heic"}


def _photos(folder: Path) -> None:
    from PIL import Image
    from pillow_heif import register_heif_opener
    register_heif_opener()
    img = Image.radial_gradient("L").convert("RGB").resize((64, 48))
    exif = Image.Exif()
    exif[0x010F] = "Canon"          # Make: the camera's own metadata stays
    img.save(folder / NAMES["jpg"], "JPEG", quality=90, exif=exif)
    img.save(folder / NAMES["png"], "PNG")
    img.save(folder / NAMES["tiff"], "TIFF", compression="tiff_lzw")
    img.save(folder / NAMES["heic"], "HEIF", quality=80)


@pytest.fixture
def school(dw_home: Path, tmp_path: Path):
    from dataward.pipelines.report import write_report
    from dataward.pipelines.scan import run_scan
    from dataward.settings import load_settings
    photos = tmp_path / "share" / "pupils" / "Photos"
    photos.mkdir(parents=True)
    _photos(photos)
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text("sources:\n"
                   f"  - {{name: pupils, path: {photos.parent}, audience: pupils}}\n"
                   f"rosters:\n  - {{path: {make_roster(tmp_path)}, kind: pupils}}\n",
                   encoding="utf-8")
    settings = load_settings(cfg)
    run_scan(settings)
    report = write_report(settings, fmt="csv", out=tmp_path / "r.csv").path.read_text("utf-8")
    ids = {r["path"]: r["item"] for r in csv.DictReader(io.StringIO(report))}
    by_ext = {ext: ids[f"pupils/Photos/{name.replace('Amelia Khan', 'A***** K***')}"]
              for ext, name in NAMES.items()}
    originals = {ext: (photos / name).read_bytes() for ext, name in NAMES.items()}
    return settings, photos, by_ext, originals


def _rename(cli, settings, items: list[str]) -> str:
    cfg = ("--config", str(settings.config_path))
    r = cli(*cfg, "remediate", "plan", *items, "--rename")
    assert r.exit_code == 0, r.output
    plan = re.search(r"plan (rm-\S+):", r.stdout).group(1)
    assert cli(*cfg, "remediate", "approve", plan, "--by", BY).exit_code == 0
    applied = cli(*cfg, "remediate", "apply", plan)
    assert applied.exit_code == 0 and f"{len(items)} item(s) done" in applied.stdout, applied.output
    return r.stdout


def _jpeg_scan_data(data: bytes) -> bytes:
    """Everything from the start-of-scan marker on: the compressed pixels."""
    pos = 2
    while data[pos + 1] != 0xDA:
        pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
    return data[pos:]


def _png_idat(data: bytes) -> bytes:
    pos, out = 8, b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        if data[pos + 4:pos + 8] == b"IDAT":
            out += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    return out


def test_by_default_the_name_is_gone_and_the_bytes_are_the_same(school, cli):
    settings, photos, ids, originals = school
    _rename(cli, settings, [ids["jpg"], ids["png"]])
    for ext in ("jpg", "png"):
        new = (photos / f"IMG-{ids[ext]}.{ext}").read_bytes()
        assert new == originals[ext]
        assert b"Amelia" not in new and b"Khan" not in new
    assert not (photos / NAMES["jpg"]).exists()


def test_the_school_keeps_names_in_the_images_own_metadata(school, cli, monkeypatch):
    from PIL import Image
    settings, photos, ids, originals = school
    monkeypatch.setenv("DATAWARD_REMEDIATE__KEEP_NAME_IN_METADATA", "true")
    out = _rename(cli, settings, [ids[e] for e in ("jpg", "png", "tiff", "heic")])
    assert "name kept in EXIF ImageDescription and XMP dc:description" in out
    assert "name kept in PNG iTXt Description" in out
    assert "name not kept: HEIC" in out

    jpg = (photos / f"IMG-{ids['jpg']}.jpg").read_bytes()
    with Image.open(io.BytesIO(jpg)) as im:
        assert im.getexif()[0x010E] == NAMES["jpg"]
        assert im.getexif()[0x010F] == "Canon"
        assert NAMES["jpg"] in str(im.getxmp())
    assert _jpeg_scan_data(jpg) == _jpeg_scan_data(originals["jpg"])

    png = (photos / f"IMG-{ids['png']}.png").read_bytes()
    with Image.open(io.BytesIO(png)) as im:
        im.load()     # text chunks after the image data are read with it
        assert im.info["Description"] == NAMES["png"]
    assert _png_idat(png) == _png_idat(originals["png"])

    tif = photos / f"IMG-{ids['tiff']}.tiff"
    with Image.open(tif) as im, Image.open(io.BytesIO(originals["tiff"])) as old:
        assert im.tag_v2[0x010E] == NAMES["tiff"]
        assert im.tobytes() == old.tobytes()

    # The HEIC is renamed all the same, untouched.
    assert (photos / f"IMG-{ids['heic']}.heic").read_bytes() == originals["heic"]
    assert sorted(p.name for p in photos.iterdir()) == sorted(
        f"IMG-{ids[e]}.{e}" for e in ids)

    # Undo gives the files their names back (the description stays in them).
    plan = re.search(r"plan (rm-\S+):", out).group(1)
    r = cli("--config", str(settings.config_path), "remediate", "undo", plan)
    assert r.exit_code == 0 and "4 item(s) put back" in r.stdout, r.output
    assert sorted(p.name for p in photos.iterdir()) == sorted(NAMES.values())
    assert hashlib.sha256((photos / NAMES["jpg"]).read_bytes()).digest() == \
        hashlib.sha256(jpg).digest()
