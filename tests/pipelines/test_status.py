"""`dataward status`: when each scheduled job last did its work, and what is overdue."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path


def _config(home: Path, share: Path, scan_schedule: str) -> None:
    (home / "dataward.yaml").write_text(
        "school: {name: Test School}\n"
        f"sources:\n  - {{name: office, path: {share}, audience: staff}}\n"
        f"schedules:\n  nightly_scan: {scan_schedule}\n")


def test_status_shows_the_last_run_and_what_is_overdue(dw_home: Path, tmp_path: Path, cli):
    share = tmp_path / "share"
    share.mkdir()
    (share / "minutes.txt").write_text("Staff meeting minutes.\n")
    _config(dw_home, share, "{cron: '0 1 * * *'}")
    before = datetime.now(UTC)
    assert cli("scan").exit_code == 0
    after = datetime.now(UTC)

    r = cli("status", "--json")
    assert r.exit_code == 3, r.output        # something is overdue
    jobs = {j["flow"]: j for j in json.loads(r.stdout)["jobs"]}
    assert set(jobs) == {"nightly_scan", "nightly_backup", "weekly_verify",
                         "weekly_retention", "termly_restore_test"}
    scan = jobs["nightly_scan"]
    assert before <= datetime.fromisoformat(scan["last_run"]) <= after
    assert scan["schedule"] == "0 1 * * * (Europe/London)" and not scan["overdue"]
    # The backup has never run, and its 03:00 has come round at least once.
    backup = jobs["nightly_backup"]
    assert backup["last_run"] is None and backup["overdue"]
    assert datetime.fromisoformat(backup["due_since"]) < before
    assert json.loads(r.stdout)["overdue"] == [
        "nightly_backup", "weekly_verify", "weekly_retention", "termly_restore_test"]

    # A scan every 5 s that has not run for longer than that is overdue (no grace).
    _config(dw_home, share, "{every_seconds: 5}")
    time.sleep(5.5)
    r = cli("status", "--grace-hours", "0")
    assert r.exit_code == 3
    row = next(ln for ln in r.stdout.splitlines() if "nightly_scan" in ln)
    assert "every 5 s" in row and "OVERDUE" in row
    assert "overdue: nightly_scan, nightly_backup" in r.stderr


def test_an_ad_hoc_scan_is_not_the_nightly_scan(dw_home: Path, tmp_path: Path, cli):
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text("nothing here\n")
    _config(dw_home, share, "{every_seconds: 3600}")
    assert cli("scan", str(share), "--out", str(tmp_path / "out")).exit_code == 0
    r = cli("status", "--json", "--grace-hours", "0")
    jobs = {j["flow"]: j for j in json.loads(r.stdout)["jobs"]}
    assert jobs["nightly_scan"]["last_run"] is None and jobs["nightly_scan"]["overdue"]
