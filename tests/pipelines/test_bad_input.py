"""Bad input never stops a scan: each item gets a status and a reason."""
from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest

from dataward.connectors.filesystem import walk
from dataward.pipelines.scan import make_classifier, run_scan
from dataward.pipelines.scan_item import ItemContext, process_entry
from dataward.settings import Source, load_settings


@pytest.fixture
def bare(dw_home, tmp_path):
    cfg = tmp_path / "empty.yaml"
    cfg.write_text("scan: {max_file_mb: 1}\n")
    return load_settings(cfg)


def scan_dir(settings, path):
    result = run_scan(settings, sources=[Source(name="s", path=path)])
    items = pq.read_table(result.out_dir / "items.parquet").to_pandas()
    return result, {os.path.basename(p): r for p, r in zip(items.path, items.itertuples())}


def test_hostile_files_each_get_a_status(bare, tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "corrupt.docx").write_bytes(b"PK\x03\x04" + os.urandom(2000))
    (d / "corrupt.xlsx").write_bytes(os.urandom(3000))
    (d / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(3000))
    (d / "empty.txt").write_bytes(b"")
    (d / "big.txt").write_bytes(b"x" * (2 * 1024 * 1024))
    (d / "noperm.txt").write_text("Pupil UPN U820200014013\n")
    os.chmod(d / "noperm.txt", 0)
    (d / "tool.bin").write_bytes(b"\x7fELF" + os.urandom(500))
    os.symlink("loop-b", d / "loop-a")
    os.symlink("loop-a", d / "loop-b")
    os.symlink(d, d / "self")
    os.symlink("/etc/passwd", d / "outside")
    bad_name = os.fsencode(str(d)) + b"/caf\xe9-pupils.txt"
    with open(bad_name, "wb") as fh:
        fh.write(b"UPN U820200014013\n")

    result, items = scan_dir(bare, d)
    assert result.items == 12
    assert items["corrupt.docx"].status == "error" and "corrupt docx" in items["corrupt.docx"].error
    assert items["corrupt.xlsx"].status == "error"
    assert items["corrupt.pdf"].status == "error"
    assert (items["empty.txt"].status, items["empty.txt"].error) == ("skipped", "empty file")
    assert items["big.txt"].status == "skipped" and "1 MB cap" in items["big.txt"].error
    assert items["tool.bin"].status == "unsupported"
    for link in ("loop-a", "loop-b", "self", "outside"):
        assert items[link].status == "skipped" and "symbolic link" in items[link].error
    # 0-permission file: unreadable for a normal user; root reads it. Either way it is an
    # item, its mode says who may read it, and the scan goes on.
    noperm = items["noperm.txt"]
    assert noperm.mode == "000"
    assert (noperm.status, noperm.error) in (("ok", ""), ("error", "permission denied"))
    odd = items["caf\ufffd-pupils.txt"]
    assert odd.status == "ok" and odd.n_uk_upn == 1
    assert odd.locator.endswith("/caf%E9-pupils.txt")
    assert result.status == "partial" and result.errors == 3


def test_file_changed_or_deleted_while_scanned(bare, tmp_path):
    d = tmp_path / "live"
    d.mkdir()
    for name in ("changing.txt", "vanishing.txt", "becomes-dir.txt", "becomes-link.txt"):
        (d / name).write_text("UPN U820200014013\n")
    entries = {os.path.basename(e.path): e for e in walk(Source(name="s", path=d))}
    ctx = ItemContext(bare, make_classifier(bare, __import__("dataward.connectors.roster", fromlist=["Roster"]).Roster()), "t")
    with open(d / "changing.txt", "a") as fh:
        fh.write("more text written during the scan\n")
    os.unlink(d / "vanishing.txt")
    os.unlink(d / "becomes-dir.txt")
    os.mkdir(d / "becomes-dir.txt")
    os.unlink(d / "becomes-link.txt")
    os.symlink("/etc/passwd", d / "becomes-link.txt")

    def outcome(name):
        return process_entry(entries[name], "s", "staff", ctx).item

    assert outcome("changing.txt")["status"] == "error"
    assert "changed while being read" in outcome("changing.txt")["error"]
    assert outcome("vanishing.txt")["error"] == "disappeared during the scan"
    assert outcome("becomes-dir.txt")["status"] == "error"
    link = outcome("becomes-link.txt")
    assert link["status"] == "error" and "symbolic link" in link["error"]


def test_unlistable_folder_is_an_item(bare, tmp_path):
    if os.geteuid() == 0:
        # root lists any folder; make one that cannot be listed by removing it mid-walk
        d = tmp_path / "gone"
        d.mkdir()
        entries = list(walk(Source(name="s", path=tmp_path / "does-not-exist")))
        assert entries[0].kind == "dir-error" and "cannot open the source root" in entries[0].error
        return
    d = tmp_path / "locked"
    d.mkdir()
    os.chmod(d, 0)
    entries = list(walk(Source(name="s", path=tmp_path)))
    assert any(e.kind == "dir-error" and "cannot list folder" in e.error for e in entries)


def test_roster_without_name_columns_names_the_headers(tmp_path):
    from dataward.connectors.roster import load_roster
    from dataward.errors import InputError
    p = tmp_path / "export.csv"
    p.write_text("Pupil ID,Class,Year\n1,6B,6\n")
    with pytest.raises(InputError) as info:
        load_roster(p)
    assert "'Pupil ID', 'Class', 'Year'" in str(info.value)


@pytest.mark.parametrize("content, encoding", [
    ("Legal Forename,Legal Surname\nZoë,Brontë\n", "utf-8-sig"),
    ("Forename;Surname\nZoë;Brontë\n", "cp1252"),
    ("Full Name\tYear\nBrontë, Zoë\t6\n", "utf-16"),
])
def test_roster_exports_as_schools_make_them(tmp_path, content, encoding):
    from dataward.connectors.roster import load_roster
    p = tmp_path / "export.csv"
    p.write_bytes(content.encode(encoding))
    roster = load_roster(p)
    # Decoded right (a mis-decoded ë would not fold to e), then folded by the one name
    # rule: accents stripped, as retention strips them.
    assert [x.canonical for x in roster.people] == ["zoe bronte"]


def test_unknown_binary_is_dismissed_from_its_first_bytes(bare, tmp_path):
    d = tmp_path / "bin"
    d.mkdir()
    small = d / "tool.bin"
    small.write_bytes(b"\x7fELF" + os.urandom(100))
    result, items = scan_dir(bare, d)
    assert items["tool.bin"].status == "unsupported"
    # Below the quick-look size a binary is read whole (and hashed); above it, only its head.
    big = d / "video.bin"
    with open(big, "wb") as fh:
        fh.write(b"\x00\x01BINARYHEAD")
        fh.truncate(3 * 1024 * 1024)
    from dataward.settings import load_settings
    cfg = tmp_path / "c.yaml"
    cfg.write_text("scan: {max_file_mb: 10}\n")
    result, items = scan_dir(load_settings(cfg), d)
    assert (items["video.bin"].status, items["video.bin"].sha256) == ("unsupported", "")
    assert "first bytes" in items["video.bin"].error
    assert result.bytes_read < 2 * 1024 * 1024
