"""Remediation over real files and a real scan: a move into a restricted folder and a
rename of an image named after a pupil, each planned, approved by name, applied (and
resumed after an interruption), undone, audited; hard links and symlinks refused."""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest

from tests.pipelines.conftest import line, make_roster

BY = "Ann Smith (DPO)"


@pytest.fixture
def school(dw_home: Path, tmp_path: Path):
    from PIL import Image

    from dataward.pipelines.scan import run_scan
    from dataward.settings import load_settings
    share = tmp_path / "share"
    for d in ("staff", "pupils/Trip", "pupils/Photos", "admin/Restricted"):
        (share / d).mkdir(parents=True)
    (share / "pupils" / "Trip" / "medical notes.txt").write_text(
        line() + "\nMedical: asthma, inhaler kept in the office.\n")
    (share / "pupils" / "Trip" / "contacts.txt").write_text(line() + "\n")
    (share / "pupils" / "linked.txt").write_text(line() + "\n")
    os.link(share / "pupils" / "linked.txt", share / "staff" / "linked copy.txt")
    Image.new("RGB", (16, 12), "blue").save(share / "pupils" / "Photos" / "Amelia Khan sports day.jpg")
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text(
        "sources:\n"
        f"  - {{name: staff, path: {share / 'staff'}, audience: staff}}\n"
        f"  - {{name: pupils, path: {share / 'pupils'}, audience: pupils}}\n"
        f"  - {{name: admin, path: {share / 'admin'}, audience: admin}}\n"
        f"rosters:\n  - {{path: {make_roster(tmp_path)}, kind: pupils}}\n", encoding="utf-8")
    settings = load_settings(cfg)
    run_scan(settings)
    from dataward.pipelines.report import write_report
    rows = csv.DictReader(io.StringIO(write_report(settings, fmt="csv", out=tmp_path / "r.csv")
                                      .path.read_text("utf-8")))
    return settings, share, {r["path"]: r["item"] for r in rows}


def _plan_id(output: str) -> str:
    return re.search(r"plan (rm-[0-9]{8}-[0-9]{6}-[0-9a-f]{4})", output).group(1)


def test_move_plan_approve_apply_resume_undo(school, cli):
    settings, share, ids = school
    cfg = ("--config", str(settings.config_path))
    secure = share / "admin" / "Restricted"
    notes, contacts = ids["pupils/Trip/medical notes.txt"], ids["pupils/Trip/contacts.txt"]
    r = cli(*cfg, "remediate", "plan", notes, contacts, "--move-to", secure,
            "--note", "Ask the DPO (ext 214).")
    assert r.exit_code == 0, r.output
    plan = _plan_id(r.stdout)

    # No approval, no move.
    r = cli(*cfg, "remediate", "apply", plan)
    assert r.exit_code != 0 and "named approval" in r.output
    assert (share / "pupils" / "Trip" / "medical notes.txt").exists()
    assert cli(*cfg, "remediate", "approve", plan, "--by", BY).exit_code == 0

    # An interrupted run: the first file was renamed, the ledger not told.
    os.rename(share / "pupils" / "Trip" / "medical notes.txt", secure / "medical notes.txt")
    r = cli(*cfg, "remediate", "apply", plan)
    assert r.exit_code == 0, r.output
    assert "2 item(s) done" in r.stdout
    assert sorted(p.name for p in secure.iterdir()) == ["contacts.txt", "medical notes.txt"]
    left = sorted(p.name for p in (share / "pupils" / "Trip").iterdir())
    assert left == sorted([f"MOVED-{contacts}.txt", f"MOVED-{notes}.txt"])
    note = (share / "pupils" / "Trip" / f"MOVED-{notes}.txt").read_text()
    assert "Ask the DPO (ext 214)." in note and "Amelia" not in note

    r = cli(*cfg, "remediate", "undo", plan)
    assert r.exit_code == 0 and "2 item(s) put back" in r.stdout
    assert sorted(p.name for p in (share / "pupils" / "Trip").iterdir()) == [
        "contacts.txt", "medical notes.txt"]
    assert list(secure.iterdir()) == []

    from dataward.ledger import Ledger
    with Ledger.for_settings(settings) as ledger:
        actions = [a.action for a in ledger.audit_records(action_prefix="remediate.")]
        approve = ledger.audit_records(action_prefix="remediate.approve")[0]
    assert actions == ["remediate.plan", "remediate.approve",
                       "remediate.moved", "remediate.moved", "remediate.apply",
                       "remediate.undone", "remediate.undone", "remediate.undo"]
    assert approve.details["by"] == BY


def test_rename_an_image_named_after_a_pupil(school, cli):
    settings, share, ids = school
    cfg = ("--config", str(settings.config_path))
    item = ids["pupils/Photos/A***** K*** sports day.jpg"]
    r = cli(*cfg, "remediate", "plan", item, "--rename")
    assert r.exit_code == 0, r.output
    plan = _plan_id(r.stdout)
    assert cli(*cfg, "remediate", "approve", plan, "--by", BY).exit_code == 0
    assert cli(*cfg, "remediate", "apply", plan).exit_code == 0
    assert [p.name for p in (share / "pupils" / "Photos").iterdir()] == [f"IMG-{item}.jpg"]


def test_hard_links_and_symlinked_folders_are_refused(school, cli, tmp_path: Path):
    settings, share, ids = school
    cfg = ("--config", str(settings.config_path))
    secure = share / "admin" / "Restricted"
    r = cli(*cfg, "remediate", "plan", ids["pupils/linked.txt"], ids["pupils/Trip/contacts.txt"],
            "--move-to", secure)
    plan = _plan_id(r.stdout)
    assert cli(*cfg, "remediate", "approve", plan, "--by", BY).exit_code == 0
    # The Trip folder is swapped for a symlink to a folder outside the roots.
    outside = tmp_path / "outside"
    outside.mkdir()
    (share / "pupils" / "Trip").rename(tmp_path / "Trip-moved")
    (share / "pupils" / "Trip").symlink_to(outside, target_is_directory=True)
    r = cli(*cfg, "remediate", "apply", plan)
    assert r.exit_code == 77 and "symlink" in r.output
    (share / "pupils" / "Trip").unlink()
    (tmp_path / "Trip-moved").rename(share / "pupils" / "Trip")
    r = cli(*cfg, "remediate", "apply", plan)
    assert r.exit_code == 0 and "1 item(s) done" in r.stdout
    assert "2 hard links" in r.output
    assert (share / "pupils" / "linked.txt").exists()
    assert [p.name for p in secure.iterdir()] == ["contacts.txt"]
    # A destination outside the sources is refused when planning.
    r = cli(*cfg, "remediate", "plan", ids["pupils/linked.txt"], "--move-to", tmp_path)
    assert r.exit_code == 77


def test_apply_and_undo_both_leave_the_plan_open_while_an_item_is_refused(school, cli):
    """Apply and undo walk a plan alike: a refused item is listed and counted in the run's
    audit record, the others are moved, the plan keeps its status, and the next run
    finishes it."""
    from dataward.ledger import Ledger
    from dataward.remediate.plan import get_plan
    settings, share, ids = school
    cfg = ("--config", str(settings.config_path))
    secure = share / "admin" / "Restricted"

    def status_and_skipped(plan_id: str, action: str) -> tuple[str, int]:
        with Ledger.for_settings(settings) as ledger:
            last = ledger.audit_records(action_prefix=action)[-1]
            return get_plan(ledger, plan_id).status, last.details["skipped"]

    # Apply: a hard-linked file is refused.
    r = cli(*cfg, "remediate", "plan", ids["pupils/linked.txt"],
            ids["pupils/Trip/medical notes.txt"], "--move-to", secure)
    linked_plan = _plan_id(r.stdout)
    assert cli(*cfg, "remediate", "approve", linked_plan, "--by", BY).exit_code == 0
    r = cli(*cfg, "remediate", "apply", linked_plan)
    assert "1 item(s) done" in r.stdout and "2 hard links" in r.output
    assert status_and_skipped(linked_plan, "remediate.apply") == ("approved", 1)

    # Undo: a moved file changed in the restricted folder is refused until it is as moved.
    r = cli(*cfg, "remediate", "plan", ids["pupils/Trip/contacts.txt"], "--move-to", secure)
    plan = _plan_id(r.stdout)
    assert cli(*cfg, "remediate", "approve", plan, "--by", BY).exit_code == 0
    assert "1 item(s) done" in cli(*cfg, "remediate", "apply", plan).stdout
    assert status_and_skipped(plan, "remediate.apply") == ("applied", 0)
    moved = secure / "contacts.txt"
    as_moved = moved.read_bytes()
    moved.write_bytes(as_moved + b"edited in the restricted folder\n")
    r = cli(*cfg, "remediate", "undo", linked_plan)
    assert "1 item(s) put back" in r.stdout
    assert status_and_skipped(linked_plan, "remediate.undo") == ("undone", 0)
    r = cli(*cfg, "remediate", "undo", plan)
    assert "0 item(s) put back" in r.stdout
    assert status_and_skipped(plan, "remediate.undo") == ("applied", 1)
    assert moved.exists() and not (share / "pupils" / "Trip" / "contacts.txt").exists()
    moved.write_bytes(as_moved)
    assert "1 item(s) put back" in cli(*cfg, "remediate", "undo", plan).stdout
    assert status_and_skipped(plan, "remediate.undo") == ("undone", 0)
    assert (share / "pupils" / "Trip" / "contacts.txt").read_bytes() == as_moved
