"""The DPO's review decisions last across real scans: they follow a file that is renamed
or moved, an item is fixed once a later scan no longer finds personal data in it, an
acceptance ends on its expiry date, and each decision is in the ledger and audit log with
the operating-system user and the typed name."""
from __future__ import annotations

import csv
import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.pipelines.conftest import line, make_roster
from tests.report.conftest import configure

BY = "Ann Smith (DPO)"


@pytest.fixture
def school(dw_home: Path, tmp_path: Path):
    share = tmp_path / "share"
    (share / "staff" / "SEN").mkdir(parents=True)
    (share / "pupils").mkdir()
    (share / "staff" / "SEN" / "plan.txt").write_text(line() + "\nEHCP review\n")
    (share / "pupils" / "trip list.txt").write_text(line() + "\n")
    (share / "staff" / "old register.txt").write_text(line() + "\n")
    (share / "staff" / "contacts.txt").write_text("Reception: 020 7946 0123\n")
    settings = configure(tmp_path, share, make_roster(tmp_path))
    return settings, share


def _scan(settings) -> str:
    from dataward.pipelines.scan import run_scan
    return run_scan(settings).scan_id


def _csv(settings, tmp_path: Path) -> dict[str, dict[str, str]]:
    from dataward.pipelines.report import write_report
    path = write_report(settings, fmt="csv", out=tmp_path / "report.csv").path
    return {r["path"]: r for r in csv.DictReader(io.StringIO(path.read_text("utf-8")))}


def test_decisions_survive_a_rename_and_a_move(school, tmp_path: Path, cli):
    settings, share = school
    cfg = ("--config", str(settings.config_path))
    first = _scan(settings)
    rows = _csv(settings, tmp_path)
    plan, trip = rows["staff/SEN/plan.txt"], rows["pupils/trip list.txt"]
    register, contacts = rows["staff/old register.txt"], rows["staff/contacts.txt"]
    assert {r["review"] for r in rows.values()} == {"open"}
    until = (date.today() + timedelta(days=30)).isoformat()

    r = cli(*cfg, "review", "accept", plan["item"], "--reason", "SENCo's working file",
            "--until", until, "--by", BY)
    assert r.exit_code == 0, r.output
    assert cli(*cfg, "review", "to-fix", trip["item"], "--owner", "Network manager",
               "--by", BY).exit_code == 0
    assert cli(*cfg, "review", "to-fix", register["item"], "--owner", "Office",
               "--by", BY).exit_code == 0
    listed = cli(*cfg, "review", "findings", contacts["item"])
    assert listed.exit_code == 0 and "PHONE_NUMBER" in listed.stdout and "020" not in listed.stdout
    ref = re.search(r"\b([0-9a-f]{10})\b.*PHONE_NUMBER", listed.stdout).group(1)
    r = cli(*cfg, "review", "false-positive", contacts["item"], "--finding", ref, "--by", BY)
    assert r.exit_code == 0, r.output

    # Refused: an acceptance without an expiry in the future, a decision without a name.
    r = cli(*cfg, "review", "accept", plan["item"], "--reason", "x", "--until",
            date.today().isoformat(), "--by", BY)
    assert r.exit_code == 2 and "expiry date after today" in r.output
    assert cli(*cfg, "review", "to-fix", plan["item"], "--owner", "x", "--by", " ").exit_code == 2

    # Overnight: the SEN plan is renamed, the trip list moved into the staff share, the old
    # register cleared of personal data, and the contacts file moved into a new folder.
    (share / "staff" / "SEN" / "plan.txt").rename(share / "staff" / "SEN" / "plan 2026.txt")
    (share / "staff" / "Trips").mkdir()
    (share / "pupils" / "trip list.txt").rename(share / "staff" / "Trips" / "trip list.txt")
    (share / "staff" / "old register.txt").write_text("Register moved to the MIS.\n")
    (share / "staff" / "Office").mkdir()
    (share / "staff" / "contacts.txt").rename(share / "staff" / "Office" / "contacts.txt")
    second = _scan(settings)
    assert second != first

    rows = _csv(settings, tmp_path)
    assert rows["staff/SEN/plan 2026.txt"]["review"] == "accepted"
    assert rows["staff/Trips/trip list.txt"]["review"] == "to-fix"
    assert rows["staff/Office/contacts.txt"]["review"] == "false-positive"
    assert "staff/old register.txt" not in rows  # no personal data any more

    from dataward.pipelines.report import write_report
    html = write_report(settings, fmt="html", out=tmp_path / "r.html").path.read_text("utf-8")
    assert "Review: 0 open, 1 to fix, 1 accepted, 1 fixed" in html
    assert "staff/SEN/plan 2026.txt" in html and "accepted until " + until in html
    assert "no personal data found any more" in html and "owner: Network manager" in html
    lst = cli(*cfg, "review", "list")
    assert lst.exit_code == 0 and "fixed" in lst.stdout and "accepted" in lst.stdout

    # In the ledger and the audit log: the typed name and the operating-system user.
    from dataward.ledger import Ledger, current_user
    with Ledger.for_settings(settings) as ledger:
        audit = ledger.audit_records(action_prefix="review.")
        with ledger.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT * FROM review_decisions").all()
    assert [a.action for a in audit] == ["review.accepted", "review.to-fix", "review.to-fix",
                                         "review.false-positive"]
    assert all(a.actor == current_user() and a.details["by"] == BY for a in audit)
    assert all(a.details["os_user"] == current_user() for a in audit)
    assert len(stored) == 4
    assert not any("plan" in str(v) or "trip" in str(v) for row in stored for v in row)


def test_an_acceptance_comes_back_after_its_expiry(school, tmp_path: Path):
    from dataward.ledger import Ledger
    from dataward.pipelines.report_data import build_report_data
    from dataward.pipelines.report_review import finding_keys, load_decisions, review_states
    from dataward.review.decisions import record_decision

    settings, _share = school
    _scan(settings)
    item = _csv(settings, tmp_path)["staff/SEN/plan.txt"]["item"]
    until = date.today() + timedelta(days=10)
    with Ledger.for_settings(settings) as ledger:
        record_decision(settings, ledger, item, "accepted", by=BY, reason="working file",
                        expires=until)
        _scan_id = _scan(settings)
        data = build_report_data(settings, ledger)
        df = data.items_frame
        row = int(df.index[df["item_id"] == item][0])
        decisions = load_decisions(ledger)
        scan_dir = Path(ledger.get_scan("latest").out_dir)
        started = ledger.get_scan("latest").started
    assert data.review_counts["accepted"] == 1
    before = review_states(decisions, df, started, finding_keys(scan_dir), today=until)
    after = review_states(decisions, df, started, finding_keys(scan_dir),
                          today=until + timedelta(days=1))
    assert before.status[row] == "accepted"
    assert after.status[row] == "open"
    assert [s.state for s in after.states.values()] == ["expired"]


def test_a_reason_naming_a_pupil_is_masked_in_the_ledger(school, tmp_path: Path):
    from dataward.ledger import Ledger
    from dataward.review.decisions import record_decision
    settings, _share = school
    _scan(settings)
    item = _csv(settings, tmp_path)["pupils/trip list.txt"]["item"]
    with Ledger.for_settings(settings) as ledger:
        record_decision(settings, ledger, item, "to-fix", by=BY, owner="class teacher of Amelia Khan")
        audit = ledger.audit_records(action_prefix="review.")
        with ledger.engine.connect() as conn:
            owner = conn.exec_driver_sql("SELECT owner FROM review_decisions").scalar()
    assert owner == "class teacher of A***** K***"
    assert "Amelia" not in str(audit[-1].details)
    assert os.environ.get("DATAWARD_HOME")


def test_a_decision_can_be_withdrawn_and_the_item_is_open_again(school, tmp_path: Path, cli):
    settings, share = school
    cfg = ("--config", str(settings.config_path))
    _scan(settings)
    rows = _csv(settings, tmp_path)
    plan, contacts = rows["staff/SEN/plan.txt"]["item"], rows["staff/contacts.txt"]["item"]
    until = (date.today() + timedelta(days=30)).isoformat()
    assert cli(*cfg, "review", "accept", plan, "--reason", "SENCo's working file",
               "--until", until, "--by", BY).exit_code == 0
    ref = re.search(r"\b([0-9a-f]{10})\b.*PHONE_NUMBER",
                    cli(*cfg, "review", "findings", contacts).stdout).group(1)
    assert cli(*cfg, "review", "false-positive", contacts, "--finding", ref,
               "--by", BY).exit_code == 0
    # The accepted file is renamed before the decision is withdrawn: it still follows it.
    (share / "staff" / "SEN" / "plan.txt").rename(share / "staff" / "SEN" / "plan v2.txt")
    _scan(settings)
    rows = _csv(settings, tmp_path)
    assert rows["staff/SEN/plan v2.txt"]["review"] == "accepted"
    assert rows["staff/contacts.txt"]["review"] == "false-positive"
    renamed = rows["staff/SEN/plan v2.txt"]["item"]

    r = cli(*cfg, "review", "withdraw", renamed, "--by", "Ben Jones (head)")
    assert r.exit_code == 0, r.output
    assert "1 decision(s)" in r.stdout and "open again" in r.stdout
    assert cli(*cfg, "review", "withdraw", contacts, "--by", BY).exit_code == 0
    rows = _csv(settings, tmp_path)
    assert rows["staff/SEN/plan v2.txt"]["review"] == "open"
    assert rows["staff/contacts.txt"]["review"] == "open"
    # Nothing left to withdraw; no name, no withdrawal.
    again = cli(*cfg, "review", "withdraw", renamed, "--by", BY)
    assert again.exit_code != 0 and "no review decision" in again.output
    assert cli(*cfg, "review", "withdraw", contacts, "--by", " ").exit_code == 2
    listed = cli(*cfg, "review", "list")
    assert listed.exit_code == 0 and listed.stdout.count("withdrawn") >= 4, listed.stdout

    from dataward.ledger import Ledger, current_user
    with Ledger.for_settings(settings) as ledger:
        audit = ledger.audit_records(action_prefix="review.withdrawn")
        with ledger.engine.connect() as conn:
            kept = conn.exec_driver_sql(
                "SELECT kind, withdrawn_by, withdrawn_os_user FROM review_decisions "
                "ORDER BY decision_id").all()
    assert [a.subject for a in audit] == [renamed, contacts]
    assert [(a.details["by"], a.details["os_user"]) for a in audit] == [
        ("Ben Jones (head)", current_user()), (BY, current_user())]
    # The decisions stay in the ledger as history, marked withdrawn.
    assert kept == [("accepted", "Ben Jones (head)", current_user()),
                    ("false-positive", BY, current_user())]


def test_an_item_is_fixed_once_its_problem_is_gone_after_a_remediation(dw_home: Path,
                                                                        tmp_path: Path, cli,
                                                                        monkeypatch):
    from PIL import Image
    share = tmp_path / "share"
    (share / "staff" / "Restricted").mkdir(parents=True)
    (share / "pupils" / "Photos").mkdir(parents=True)
    (share / "pupils" / "medical.txt").write_text(line() + "\nMedical: asthma, inhaler in the office.\n")
    Image.new("RGB", (8, 8), "green").save(share / "pupils" / "Photos" / "Amelia Khan sports day.jpg")
    settings = configure(tmp_path, share, make_roster(tmp_path))
    cfg = ("--config", str(settings.config_path))
    _scan(settings)
    rows = _csv(settings, tmp_path)
    medical = rows["pupils/medical.txt"]
    photo = rows["pupils/Photos/A***** K*** sports day.jpg"]
    assert medical["next_step"].startswith("move it to a staff-only folder")
    assert photo["next_step"].startswith("rename the image")
    for item in (medical["item"], photo["item"]):
        assert cli(*cfg, "review", "to-fix", item, "--owner", "Network manager",
                   "--by", BY).exit_code == 0

    # The network manager fixes both with dataward itself; the school keeps names in photos.
    monkeypatch.setenv("DATAWARD_REMEDIATE__KEEP_NAME_IN_METADATA", "true")
    for args in (("--move-to", share / "staff" / "Restricted"), ("--rename",)):
        item = medical["item"] if args[0] == "--move-to" else photo["item"]
        r = cli(*cfg, "remediate", "plan", item, *args)
        plan = re.search(r"plan (rm-\S+):", r.stdout).group(1)
        assert cli(*cfg, "remediate", "approve", plan, "--by", BY).exit_code == 0
        assert cli(*cfg, "remediate", "apply", plan).exit_code == 0
    _scan(settings)
    rows = _csv(settings, tmp_path)
    # The medical notes still hold personal data, but not where pupils can open them.
    assert rows["staff/Restricted/medical.txt"]["review"] == "fixed"
    # The renamed photo holds the name in its own metadata now, not in its file name: the
    # decision follows it (new content, new inode) through the remediation.
    img = rows[f"pupils/Photos/IMG-{photo['item']}.jpg"]
    assert img["review"] == "fixed" and int(img["n_person"]) >= 1
    from dataward.pipelines.report import write_report
    html = write_report(settings, fmt="html", out=tmp_path / "r.html").path.read_text("utf-8")
    assert "Review: 0 open, 0 to fix, 0 accepted, 2 fixed" in html
    assert "fixed: no longer special-category data where pupils can open it" in html
    assert "fixed: no longer a pupil&#39;s name in an image&#39;s file or folder name" in html
    assert "no longer found" not in html
    # The notes were moved, not removed and new.
    assert "Moved: 1 item" in html
