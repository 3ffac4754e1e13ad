"""Photos: GPS position (masked), camera date, names in EXIF text and in file names."""
from __future__ import annotations

import shutil

from PIL import Image

from .conftest import SAMPLES as ALL_SAMPLES
from .conftest import assert_no_raw_values, run

SAMPLES = ALL_SAMPLES / "exif-samples"


def _gps_exif(lat=(51, 30, 4.2), lon=(0, 7, 39.0), lon_ref="W"):
    exif = Image.Exif()
    exif[0x013B] = "Amelia Khan"                       # Artist
    exif[0x0132] = "2024:06:14 10:31:00"               # DateTime
    exif.get_ifd(0x8825).update({1: "N", 2: lat, 3: lon_ref, 4: lon})
    return exif


def test_gps_camera_date_and_exif_names(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    Image.new("RGB", (32, 24), "red").save(share / "sports.jpg", exif=_gps_exif())
    Image.new("RGB", (8, 8)).save(share / "scan.tiff", exif=_gps_exif())
    png = share / "poster.png"
    from PIL.PngImagePlugin import PngInfo
    meta = PngInfo()
    meta.add_text("Description", "Year 3 trip, Amelia Khan")
    Image.new("RGB", (8, 8)).save(png, pnginfo=meta)
    no_coords = Image.Exif()
    no_coords.get_ifd(0x8825).update({0: b"\x02\x02\x00\x00"})   # a GPS block, no position
    Image.new("RGB", (8, 8)).save(share / "plain.jpg", exif=no_coords)
    dated = Image.Exif()
    dated.get_ifd(0x8769)[0x9003] = "2025:03:01 09:15:00"   # DateTimeOriginal, no GPS
    Image.new("RGB", (8, 8)).save(share / "dated.jpg", exif=dated)

    s = run(settings, share)
    assert s.items["dated.jpg"].taken == "2025-03-01 09:15" and s.found("dated.jpg") == []

    # Pillow's TIFF writer drops the GPS block: the TIFF shows the Artist tag is read.
    assert s.items["scan.tiff"].format == "tiff" and s.found("scan.tiff") == ["PERSON"]
    for name, fmt in (("sports.jpg", "jpeg"),):
        assert s.items[name].format == fmt and s.items[name].status == "ok"
        assert s.found(name) == ["GPS_LOCATION", "PERSON"]
        gps = s.findings[(s.findings.locator == s.items[name].locator)
                         & (s.findings.entity_type == "GPS_LOCATION")].iloc[0]
        assert gps.preview == "**.***, **.***"
        assert gps["where"] == "EXIF GPS, taken 2024-06-14 10:31"
        assert s.items[name].taken == "2024-06-14 10:31"
    assert s.found("poster.png") == ["PERSON"]
    assert s.found("plain.jpg") == []
    assert s.items["plain.jpg"].taken == ""
    # The same place in two photos has one fingerprint; the position itself is nowhere.
    Image.new("RGB", (8, 8)).save(share / "again.jpg", exif=_gps_exif())
    again = run(settings, share)
    fps = set(again.findings[again.findings.entity_type == "GPS_LOCATION"].fingerprint)
    assert len(fps) == 1 and len(again.findings[again.findings.entity_type == "GPS_LOCATION"]) == 2
    assert_no_raw_values(s.out_dir, ["51.50", "-0.12", "51,30", "Amelia Khan"])


def test_roster_name_in_file_or_folder_name(settings, tmp_path):
    share = tmp_path / "share"
    (share / "Trips" / "amelia khan").mkdir(parents=True)
    for rel in ("Trips/amelia khan/IMG_0001.jpg", "Trips/Amelia_Khan_sports-day.jpg",
                "Trips/khan-amelia.png", "Trips/class photo.jpg"):
        Image.new("RGB", (8, 8)).save(share / rel)
    (share / "Trips" / "Amelia Khan notes.txt").write_text("nothing here\n")

    s = run(settings, share)

    def wheres(rel):
        f = s.findings[s.findings.locator == s.items[rel].locator]
        return sorted(zip(f.entity_type, f["where"], f.preview))

    assert wheres("Trips/amelia khan/IMG_0001.jpg") == [("PERSON", "folder name", "A***** K***")]
    assert wheres("Trips/Amelia_Khan_sports-day.jpg") == [("PERSON", "file name", "A***** K***")]
    assert wheres("Trips/khan-amelia.png") == [("PERSON", "file name", "K*** A*****")]
    assert wheres("Trips/class photo.jpg") == []
    # Every item's path is checked, not only photos' (issue 14).
    assert wheres("Trips/Amelia Khan notes.txt") == [("PERSON", "file name", "A***** K***")]


def test_real_photos_heic_and_edge_cases(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    for name in ("DSCN0010.jpg", "IMG_5195.HEIC", "Canon_40D.jpg", "45-gps_ifd.jpg", "no_exif.jpg"):
        shutil.copy(f"{SAMPLES}/{name}", share / name)

    s = run(settings, share)

    assert s.items["IMG_5195.HEIC"].format == "heic"
    for name in ("DSCN0010.jpg", "IMG_5195.HEIC"):
        assert s.found(name) == ["GPS_LOCATION"]
    for name in ("Canon_40D.jpg", "45-gps_ifd.jpg", "no_exif.jpg"):  # no coordinates
        assert s.items[name].status == "ok" and s.found(name) == []


def test_truncated_images_get_a_status(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    Image.new("RGB", (400, 300), "blue").save(share / "full.jpg", exif=_gps_exif(), quality=95)
    data = (share / "full.jpg").read_bytes()
    (share / "half.jpg").write_bytes(data[: len(data) // 2])   # pixels cut, header intact
    (share / "stub.jpg").write_bytes(data[:40])                # cut inside the EXIF block
    Image.new("RGB", (64, 64)).save(share / "full.png")
    (share / "cut.png").write_bytes((share / "full.png").read_bytes()[:30])
    (share / "cut.heic").write_bytes((SAMPLES / "IMG_5195.HEIC").read_bytes()[:500])

    s = run(settings, share)

    assert s.items["half.jpg"].status == "ok" and "GPS_LOCATION" in s.found("half.jpg")
    for name in ("stub.jpg", "cut.png", "cut.heic"):
        assert s.items[name].status == "error", name
        assert s.items[name].error.startswith(("cannot read", "corrupt")), s.items[name].error
    assert s.result.items == 6


def _xmp_people(*names: str) -> bytes:
    people = "".join(f"<rdf:li>{n}</rdf:li>" for n in names)
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
            f"<Iptc4xmpExt:PersonInImage><rdf:Bag>{people}</rdf:Bag></Iptc4xmpExt:PersonInImage>"
            '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


def test_xmp_person_in_image_names_are_found_by_the_scan(settings, tmp_path):
    """XMP PersonInImage (how Lightroom, Photos and DAM tools tag people) in a JPEG and a
    PNG: the scan reads it with the reader retention uses."""
    from PIL.PngImagePlugin import PngInfo

    from dataward.retention.inventory import read_tags

    share = tmp_path / "share"
    share.mkdir()
    Image.new("RGB", (8, 8)).save(share / "IMG_0042.jpg", xmp=_xmp_people("Amelia Khan", "Jo Bloggs"))
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", _xmp_people("Amelia Khan").decode())
    Image.new("RGB", (8, 8)).save(share / "IMG_0043.png", pnginfo=info)
    s = run(settings, share)
    for rel in ("IMG_0042.jpg", "IMG_0043.png"):
        f = s.findings[s.findings.locator == s.items[rel].locator]
        assert list(zip(f.entity_type, f["where"])) == [("PERSON", "xmp:PersonInImage")]
    assert ("xmp:PersonInImage", "Amelia Khan") in read_tags(share / "IMG_0042.jpg")


def test_an_xmp_packet_with_an_entity_bomb_is_refused(tmp_path):
    from dataward.classifiers.image_metadata import xmp_tags
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<Description><Name>&b;</Name></Description>')
    assert xmp_tags(bomb) == []


def test_a_name_in_the_path_of_a_file_too_large_to_read_is_still_found(dw_home, tmp_path):
    from .conftest import make_settings
    settings = make_settings(tmp_path, "max_file_mb: 0.001, workers: 1")
    share = tmp_path / "share"
    (share / "Year 6").mkdir(parents=True)
    (share / "Year 6" / "Amelia Khan EHCP.txt").write_text("x" * 4096)
    s = run(settings, share)
    row = s.items["Year 6/Amelia Khan EHCP.txt"]
    assert row.status == "skipped" and row.n_person == 1
    f = s.findings[s.findings.locator == row.locator]
    assert list(zip(f.entity_type, f["where"])) == [("PERSON", "file name")]
