"""`dataward scan`, `dataward scans` and `dataward demo` as a user runs them."""
from __future__ import annotations

import json

import pyarrow.parquet as pq


def test_adhoc_scan_writes_into_out_dir(cli, dw_home, share, roster, tmp_path):
    out = tmp_path / "out"
    r = cli("scan", share / "staff", "--roster", roster, "--out", out, "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["status"] == "complete" and summary["items"] == 7
    assert summary["by_entity"]["UK_UPN"] == 7
    assert pq.read_table(out / "items.parquet").num_rows == 7
    assert (out / "findings.parquet").exists()


def test_configured_scan_is_incremental_and_listed(cli, settings):
    cfg = settings.config_path
    first = cli("--config", cfg, "scan")
    assert first.exit_code == 0, first.output
    assert "8 read, 0 unchanged" in first.stdout
    second = cli("--config", cfg, "scan", "--source", "staff")
    assert "0 read, 7 unchanged and reused" in second.stdout
    listed = cli("--config", cfg, "scans")
    assert listed.exit_code == 0 and listed.stdout.count("complete") == 2


def test_unreadable_items_exit_3(cli, dw_home, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "broken.docx").write_bytes(b"PK\x03\x04 not really")
    r = cli("scan", d, "--out", tmp_path / "o")
    assert r.exit_code == 3
    assert "1 items could not be read" in r.output


def test_unknown_source_and_missing_path_are_clear(cli, settings, tmp_path):
    r = cli("--config", settings.config_path, "scan", "--source", "nope")
    assert r.exit_code == 78 and "no source named nope" in r.output
    r = cli("scan", tmp_path / "missing")
    assert r.exit_code == 78 and "does not exist" in r.output


def test_demo_builds_and_scans_a_school(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAWARD_HOME", str(tmp_path / "demo"))
    r = cli("demo", "--pupils", "12", "--no-prefect")
    assert r.exit_code == 0, r.output
    assert "complete" in r.stdout and "items.parquet" in r.stdout
    scans = list((tmp_path / "demo" / "scans").iterdir())
    items = pq.read_table(scans[0] / "items.parquet").to_pandas()
    medical = items[items.path.str.contains("medical needs")].iloc[0]
    assert medical.audience == "pupils" and medical.special_category
    assert medical.risk_level == "critical"
    assert (items.status != "error").all()


def test_paths_with_brackets_print_as_they_are(cli, dw_home, tmp_path):
    d = tmp_path / "Year 6 [2024]"
    d.mkdir()
    (d / "note.txt").write_text("UPN U820200014013\n")
    out = tmp_path / "out [red]"
    r = cli("scan", d, "--out", out)
    assert r.exit_code == 0, r.output
    assert f"{out}/items.parquet" in r.stdout
    missing = cli("scan", tmp_path / "gone [bold]")
    assert missing.exit_code == 78 and "gone [bold]" in missing.output
