"""Zip archives: members are items, encrypted members are `encrypted`, bombs stop at a cap
with status `skipped`, names like ``../x`` are only names, and unchanged archives keep
their members on a rescan."""
from __future__ import annotations

import io
import os
import zipfile

import pytest

from dataward.classifiers.extractors import archive

from .conftest import LINE, SAMPLES, UPN, assert_no_raw_values, run


def _docx_bytes(text: str) -> bytes:
    import docx
    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_members_are_items_recursively(settings, tmp_path):
    import pyzipper
    share = tmp_path / "share"
    share.mkdir()
    inner = _zip({"notes/pupil.txt": (LINE + "\n").encode()})
    (share / "records.zip").write_bytes(_zip({
        "inner/report.docx": _docx_bytes(LINE), "nested.zip": inner, "readme.txt": b"hello"}))
    with pyzipper.AESZipFile(share / "sealed.zip", "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(b"correct horse battery")
        zf.writestr("pupils.csv", f"Name,UPN\nAmelia Khan,{UPN}\n")
    with pyzipper.AESZipFile(share / "mixed.zip", "a") as zf:
        zf.writestr("plain.txt", LINE)

    s = run(settings, share)

    assert s.items["records.zip"].status == "ok" and s.items["records.zip"].format == "zip"
    docx_member = s.items["records.zip!/inner/report.docx"]
    assert docx_member.locator.endswith("records.zip!/inner/report.docx")
    assert docx_member.format == "docx" and docx_member.status == "ok"
    assert "UK_UPN" in s.found("records.zip!/inner/report.docx")
    assert s.items["records.zip!/nested.zip"].format == "zip"
    assert "UK_NHS" in s.found("records.zip!/nested.zip!/notes/pupil.txt")
    sealed = s.items["sealed.zip!/pupils.csv"]
    assert (sealed.status, sealed.error) == ("encrypted", "AES-256 encrypted zip member")
    assert s.items["sealed.zip"].status == "ok"
    assert "UK_UPN" in s.found("mixed.zip!/plain.txt")
    assert_no_raw_values(s.out_dir)


def test_zip_bomb_by_ratio_is_skipped_unexpanded(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    zeros = b"\0" * (64 * 1024 * 1024)          # 64 MiB of zeros deflate to ~64 KiB
    (share / "bomb.zip").write_bytes(_zip({"zeros.bin": zeros, "ok.txt": LINE.encode()}))
    del zeros

    s = run(settings, share)

    bomb = s.items["bomb.zip"]
    assert bomb.status == "skipped"
    assert "zip bomb guard: compression ratio" in bomb.error and "1 of 2 members read" in bomb.error
    member = s.items["bomb.zip!/zeros.bin"]
    assert member.status == "skipped" and member.sha256 == ""   # never expanded
    assert member.size == 64 * 1024 * 1024                       # its declared size
    assert "UK_UPN" in s.found("bomb.zip!/ok.txt")


def test_zip_bomb_by_size_and_count_stops_at_the_caps(settings, tmp_path, monkeypatch):
    # Caps lowered so the test stays small; workers are forked and inherit them.
    monkeypatch.setattr(archive, "MAX_EXPANDED", 3 * 1024 * 1024)
    monkeypatch.setattr(archive, "MAX_MEMBERS", 12)
    share = tmp_path / "share"
    share.mkdir()
    big = {f"part{i}.bin": os.urandom(1024 * 1024) for i in range(5)}
    (share / "big.zip").write_bytes(_zip(big, zipfile.ZIP_STORED))
    many = {f"f{i:02}.txt": b"x" for i in range(20)}
    (share / "many.zip").write_bytes(_zip(many))
    # The budget is shared by every level of one file: 2 x 0.9 MiB archives (1.8 MiB),
    # then their members (0.9 MiB each): the second member passes the 3 MiB cap.
    two = {"a.zip": _zip({"a.bin": os.urandom(900 * 1024)}, zipfile.ZIP_STORED),
           "b.zip": _zip({"b.bin": os.urandom(900 * 1024)}, zipfile.ZIP_STORED)}
    (share / "nest.zip").write_bytes(_zip(two, zipfile.ZIP_STORED))

    s = run(settings, share)

    assert s.items["big.zip"].status == "skipped"
    assert "3 MB expansion cap" in s.items["big.zip"].error
    statuses = [s.items[f"big.zip!/part{i}.bin"].status for i in range(5)]
    assert statuses.count("ok") + statuses.count("unsupported") == 3
    assert statuses.count("skipped") == 2
    assert s.items["many.zip"].status == "skipped"
    assert "more than 12 members" in s.items["many.zip"].error
    assert sum(1 for k in s.items if k.startswith("many.zip!/")) == 12
    assert s.items["nest.zip!/a.zip!/a.bin"].status == "unsupported"   # read: random bytes
    assert s.items["nest.zip!/b.zip!/b.bin"].status == "skipped"
    assert s.items["nest.zip!/b.zip"].status == "skipped"


def test_deep_nesting_stops_at_the_depth_cap(settings, tmp_path):
    from dataward.pipelines.scan_item import MAX_DEPTH
    share = tmp_path / "share"
    share.mkdir()
    data = (LINE + "\n").encode()
    name = "deep.txt"
    for level in range(MAX_DEPTH + 3):
        data, name = _zip({name: data}), f"level{level}.zip"
    (share / "onion.zip").write_bytes(data)

    s = run(settings, share)

    members = sorted((k for k in s.items if k.startswith("onion.zip")), key=len)
    assert len(members) == MAX_DEPTH + 2       # the file, then MAX_DEPTH + 1 members
    deepest = s.items[members[-1]]
    assert deepest.status == "skipped" and f"deeper than {MAX_DEPTH}" in deepest.error
    # Every container around it was not read in full: skipped, up to the file (issue 16).
    for k in members[:-1]:
        assert s.items[k].status == "skipped", k
        assert s.items[k].error == f"a cap stopped reading inside it: nested deeper than {MAX_DEPTH} containers"
    assert s.result.status == "complete"


def test_dot_dot_member_names_are_never_written(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ("../../escaped.txt", "/abs-escaped.txt", "ok/../../../up.txt"):
            info = zipfile.ZipInfo("x")
            info.filename = name   # zipfile would tidy the name given to ZipInfo()
            zf.writestr(info, LINE)
    (share / "evil.zip").write_bytes(buf.getvalue())
    before = {p for p in tmp_path.parent.rglob("*")}

    s = run(settings, share)

    for name in ("../../escaped.txt", "/abs-escaped.txt", "ok/../../../up.txt"):
        member = s.items[f"evil.zip!/{name}"]
        assert member.status == "ok" and "UK_UPN" in s.found(f"evil.zip!/{name}")
    created = {p for p in tmp_path.parent.rglob("*")} - before
    assert not [p for p in created if "escaped" in p.name or p.name == "up.txt"]
    assert not os.path.exists("/abs-escaped.txt")


def test_unchanged_archive_keeps_its_members_on_rescan(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.zip").write_bytes(_zip({"x/pupil.txt": LINE.encode(), "y.txt": b"nothing"}))
    (share / "b.txt").write_text("spellings\n")

    first = run(settings, share, adhoc=False)
    second = run(settings, share, adhoc=False)

    assert second.result.read == 0 and second.result.reused == 4
    assert set(second.items) == set(first.items)
    member = second.items["a.zip!/x/pupil.txt"]
    assert member.change == "unchanged" and member.scan_id == second.result.scan_id
    assert "UK_UPN" in second.found("a.zip!/x/pupil.txt")


@pytest.mark.parametrize("sample,expect", [
    ("libzip/encrypt.zip", {"encrypted": ("encrypted", "ZipCrypto"), "plain": ("ok", "")}),
    ("libzip/encrypt-aes192.zip", {"encrypted": ("encrypted", "AES-192"), "plain": ("ok", "")}),
    ("zip4j/strong_encrypted.zip", {"test.txt": ("encrypted", "PKWARE strong encryption")}),
])
def test_real_encrypted_archives(settings, tmp_path, sample, expect):
    import shutil
    share = tmp_path / "share"
    share.mkdir()
    shutil.copy(SAMPLES / sample, share / "a.zip")
    s = run(settings, share)
    for name, (status, reason) in expect.items():
        member = s.items[f"a.zip!/{name}"]
        assert member.status == status and reason in member.error
