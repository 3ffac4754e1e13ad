"""`dataward demo` as `make demo` runs it: the nightly job through Prefect, a local
backup, and the DPO report."""
from __future__ import annotations

import os

import pyarrow.parquet as pq


def test_demo_runs_the_nightly_job_through_prefect(prefect_harness, cli, tmp_path, monkeypatch):
    home = tmp_path / "demo"
    monkeypatch.setenv("DATAWARD_HOME", str(home))
    # The demo points PREFECT_HOME at its own folder: give it back to the harness after.
    monkeypatch.setenv("PREFECT_HOME", os.environ["PREFECT_HOME"])
    r = cli("demo", "--pupils", "10")
    assert r.exit_code == 0, r.output
    assert "through Prefect" in r.stdout
    files_on_share = sum(1 for p in (home / "demo-share").rglob("*") if p.is_file())
    assert "backup: target local, snapshot " in r.stdout
    assert f"files {files_on_share}," in r.stdout
    report = next((home / "reports").glob("report-*.html"))
    assert "Personal data exposure report" in report.read_text()
    scan_dir = next((home / "scans").iterdir())
    items = pq.read_table(scan_dir / "items.parquet").to_pandas()
    assert items.special_category.any() and (items.status != "error").all()
    assert any((home / "backup-target").iterdir())
