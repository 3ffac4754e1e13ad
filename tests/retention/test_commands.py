"""The retention commands end to end on real files: plan, approve, apply, restore, purge,
and every refusal that keeps a school from losing what it should keep."""
from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest

from .conftest import School, make_jpeg

DUE = {"Pupils/Jane Doe/portrait.jpg", "Pupils/Jane Doe/sports day.jpg",
       "Class 6/Khan_Omar_2023.jpg", "Class 6/IMG_0002.jpg", "Class 6/IMG_0003.jpg"}


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and ".dataward-quarantine" not in p.parts}


def said(result) -> str:
    """Everything a command printed, with the console's line wrapping undone."""
    return " ".join(result.output.split())


def make_plan(cli, *args: str) -> str:
    r = cli("retention", "plan", *args)
    assert r.exit_code == 0, r.output
    return re.search(r"plan (rp-\S+)", r.stdout).group(1)


def test_plan_approve_apply_restore_purge(cli, configured: School, dw_home: Path):
    school = configured
    due = DUE | {f"Class 6/{school.upns['zoe']}.jpg"}
    before = files(school.root)
    r = cli("retention", "plan")
    assert r.exit_code == 0, r.output
    plan_id = re.search(r"plan (rp-\S+)", r.stdout).group(1)
    assert "due for deletion: 6" in r.stdout
    assert "kept, on-roll: 2" in r.stdout and "kept, consent: 1" in r.stdout
    assert "kept, no-pupil-named: 2" in r.stdout
    assert files(school.root) == before  # planning moves nothing

    shown = cli("retention", "show", plan_id).stdout
    assert "names 2 pupil(s), all left" in shown

    assert cli("retention", "approve", plan_id, "--by", "Ann Smith (DPO)").exit_code == 0
    r = cli("retention", "apply", plan_id)
    assert r.exit_code == 0, r.output
    assert files(school.root) == before - due
    qdir = school.root / ".dataward-quarantine" / plan_id
    manifest = [json.loads(x) for x in (qdir / "manifest.jsonl").read_text().splitlines()]
    assert {m["path"] for m in manifest} == due
    assert oct(qdir.stat().st_mode & 0o777) == "0o700"
    # quarantined files are named by number, never by the pupil's name
    assert all(re.fullmatch(r"\d{6}\.jpg", p.name) for p in qdir.glob("*.jpg"))

    portrait = next(line.split("\t")[0] for line in shown.splitlines()
                    if "portrait.jpg" in line)
    r = cli("retention", "restore", f"{plan_id}:{portrait}")
    assert r.exit_code == 0 and "restored 1" in r.stdout
    assert files(school.root) == before - due | {"Pupils/Jane Doe/portrait.jpg"}

    r = cli("retention", "purge")  # dry run by default; still in the grace period
    assert r.exit_code == 0 and "0 file(s) past the 90-day grace period" in r.stdout
    assert len(list(qdir.glob("*.jpg"))) == 5
    r = cli("retention", "purge", "--yes", env={"DATAWARD_RETENTION__GRACE_DAYS": "0"})
    assert r.exit_code == 0, r.output
    assert "purged 5 file(s)" in r.stdout
    assert not list(qdir.glob("*.jpg"))

    record = list(csv.DictReader(io.StringIO(cli("retention", "deletions").stdout)))
    assert {Path(row["path"]).relative_to(school.root).as_posix() for row in record} == \
        due - {"Pupils/Jane Doe/portrait.jpg"}
    assert all(row["approved_by"] == "Ann Smith (DPO)" and len(row["sha256"]) == 64
               and int(row["size"]) > 0 and row["reason"] for row in record)
    assert cli("audit", "verify").exit_code == 0
    from dataward.ledger import Ledger
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger:
        records = ledger.audit_records(action_prefix="retention.")
    assert [r.action for r in records] == [
        "retention.plan", "retention.approve", "retention.apply.start", "retention.apply",
        "retention.restore", "retention.purge"]
    assert records[1].actor == "Ann Smith (DPO)" and records[-1].details["purged"] == 5


def test_audit_and_plan_records_hold_no_names_or_upns(cli, configured: School, dw_home: Path):
    plan_id = make_plan(cli)
    cli("retention", "approve", plan_id, "--by", "Ann Smith")
    cli("retention", "apply", plan_id)
    from dataward.ledger import Ledger
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger:
        audit = json.dumps([r.details for r in ledger.audit_records()])
        with ledger.engine.connect() as conn:
            plan_row = dict(conn.exec_driver_sql("select counts, warnings, inputs from "
                                                 "retention_plans").mappings().first())
            reasons = [r[0] + r[1] for r in conn.exec_driver_sql(
                "select reason, pupils from retention_items")]
    text = " ".join([audit, json.dumps(plan_row), *reasons]).lower()
    for secret in ("jane", "omar", "khan", "evans", *[u.lower() for u in configured.upns.values()]):
        assert secret not in text


def test_an_unapproved_plan_is_refused_and_nothing_moves(cli, configured: School):
    before = files(configured.root)
    plan_id = make_plan(cli)
    r = cli("retention", "apply", plan_id)
    assert r.exit_code == 5 and "has not been approved" in said(r)
    assert files(configured.root) == before
    r = cli("retention", "approve", plan_id, "--by", "  ")
    assert r.exit_code == 2


def test_only_configured_approvers_may_approve(cli, configured: School, dw_home: Path):
    cfg = dw_home / "dataward.yaml"
    cfg.write_text(cfg.read_text() + "  approvers: [Ann Smith]\n")
    plan_id = make_plan(cli)
    assert cli("retention", "approve", plan_id, "--by", "Bob Jones").exit_code == 5
    assert cli("retention", "approve", plan_id, "--by", "ann smith").exit_code == 0
    r = cli("retention", "approve", plan_id, "--by", "Ann Smith")
    assert r.exit_code == 5 and "already approved" in said(r)


def test_an_approval_names_the_account_and_approver_accounts_limit_it(
        cli, configured: School, dw_home: Path):
    import getpass

    from dataward.ledger import Ledger
    from dataward.settings import load_settings
    cfg = dw_home / "dataward.yaml"
    base = cfg.read_text()
    cfg.write_text(base + "  approver_accounts: [not-this-account]\n")
    plan_id = make_plan(cli)
    r = cli("retention", "approve", plan_id, "--by", "Ann Smith")
    assert r.exit_code == 5 and "may not approve" in said(r)
    cfg.write_text(base + f"  approver_accounts: [{getpass.getuser()}]\n")
    assert cli("retention", "approve", plan_id, "--by", "Ann Smith").exit_code == 0
    with Ledger.for_settings(load_settings()) as ledger:
        approval = ledger.audit_records(action_prefix="retention.approve")[-1]
    assert approval.actor == "Ann Smith"
    assert approval.details["os_user"] == getpass.getuser()
    assert approval.details["via"] == "cli"


@pytest.mark.parametrize("change", ["contents", "replaced-same-size-and-mtime", "deleted"])
def test_a_file_changed_since_planning_refuses_the_whole_plan(cli, configured: School, change):
    plan_id = make_plan(cli)
    cli("retention", "approve", plan_id, "--by", "Ann Smith")
    target = configured.root / "Class 6" / "IMG_0002.jpg"
    if change == "contents":
        make_jpeg(target, seed=99)
    elif change == "replaced-same-size-and-mtime":
        st = target.stat()
        data = bytearray(target.read_bytes())
        data[-3] ^= 0xFF  # one byte inside the image data
        target.write_bytes(bytes(data))
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        target.unlink()
    before = files(configured.root)
    r = cli("retention", "apply", plan_id)
    assert r.exit_code == 5 and "changed since it was made; nothing was moved" in said(r)
    assert files(configured.root) == before


def test_a_symlink_planted_after_planning_is_refused(cli, configured: School):
    """The folder of a due file is swapped for a link to a look-alike outside the root."""
    plan_id = make_plan(cli)
    cli("retention", "approve", plan_id, "--by", "Ann Smith")
    folder = configured.root / "Pupils" / "Jane Doe"
    decoy = configured.outside / "Jane Doe"
    decoy.mkdir()
    for p in folder.iterdir():  # identical copies outside, same bytes and times
        (decoy / p.name).write_bytes(p.read_bytes())
        st = p.stat()
        os.utime(decoy / p.name, ns=(st.st_atime_ns, st.st_mtime_ns))
    folder.rename(configured.outside / "moved-away")
    os.symlink(decoy, folder)
    r = cli("retention", "apply", plan_id)
    assert r.exit_code == 77 and "never follows symlinks" in said(r)
    assert "Jane" not in said(r)  # folder names below the root can be pupils' names
    assert sorted(p.name for p in decoy.iterdir()) == ["portrait.jpg", "sports day.jpg"]
    assert not (configured.root / ".dataward-quarantine" / plan_id).exists() or \
        not list((configured.root / ".dataward-quarantine" / plan_id).glob("*.jpg"))


def test_a_plan_altered_in_the_ledger_after_approval_is_refused(cli, configured: School):
    plan_id = make_plan(cli)
    cli("retention", "approve", plan_id, "--by", "Ann Smith")
    from dataward.ledger import Ledger
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger, ledger.begin() as conn:
        conn.exec_driver_sql("update retention_items set rel = 'Class 5/Amy Stone.jpg' "
                             "where item_no = 1")
    r = cli("retention", "apply", plan_id)
    assert r.exit_code == 6
    assert (configured.root / "Class 5" / "Amy Stone.jpg").exists()


def test_a_second_run_is_locked_out(cli, configured: School, dw_home: Path):
    from dataward.retention.lock import retention_lock
    plan_id = make_plan(cli)
    cli("retention", "approve", plan_id, "--by", "Ann Smith")
    before = files(configured.root)
    with retention_lock(dw_home / "retention"):
        r = cli("retention", "apply", plan_id)
        assert r.exit_code == 11 and "holds the lock" in said(r)
        assert cli("retention", "purge", "--yes").exit_code == 11
    assert files(configured.root) == before
    assert cli("retention", "apply", plan_id).exit_code == 0  # the lock is gone with its holder


def test_purge_never_destroys_a_file_altered_in_quarantine(cli, configured: School):
    plan_id = make_plan(cli)
    cli("retention", "approve", plan_id, "--by", "Ann Smith")
    cli("retention", "apply", plan_id)
    victim = configured.root / ".dataward-quarantine" / plan_id / "000001.jpg"
    victim.write_bytes(b"changed")
    r = cli("retention", "purge", "--yes", env={"DATAWARD_RETENTION__GRACE_DAYS": "0"})
    assert r.exit_code == 6 and "kept in quarantine" in said(r)
    assert victim.read_bytes() == b"changed"
    assert len(list(victim.parent.glob("*.jpg"))) == 1


def test_restore_does_not_overwrite_a_new_file_in_the_old_place(cli, configured: School):
    plan_id = make_plan(cli)
    cli("retention", "approve", plan_id, "--by", "Ann Smith")
    cli("retention", "apply", plan_id)
    newcomer = configured.root / "Class 6" / "IMG_0002.jpg"
    newcomer.write_bytes(b"a new photo")
    r = cli("retention", "restore", plan_id)
    assert r.exit_code == 3 and "left in quarantine" in said(r)
    assert newcomer.read_bytes() == b"a new photo"
    assert (configured.root / "Pupils" / "Jane Doe" / "portrait.jpg").exists()


def test_bad_leavers_export_fails_with_line_numbers(cli, configured: School):
    configured.leavers.write_text("UPN,Forename,Surname,Date of Leaving\n"
                                  f"{configured.upns['jane']},Jane,Doe,2023-13-45\n")
    r = cli("retention", "plan")
    assert r.exit_code == 65 and "leavers.csv line 2" in said(r) and "Jane" not in said(r)
    configured.leavers.write_text("Surname,Forename\nDoe,Jane\n")
    r = cli("retention", "plan")
    assert r.exit_code == 65 and "missing column" in said(r)


def test_ad_hoc_plan_without_a_config(cli, dw_home: Path, school: School):
    plan_id = make_plan(cli, "--leavers", str(school.leavers), "--images", str(school.root),
                        "--as-of", "2023-08-01")
    shown = cli("retention", "show", plan_id).stdout
    assert "due for deletion: 0" in shown and "kept, not-yet-due: 8" in shown
    r = cli("retention", "plan", "--images", str(school.root))
    assert r.exit_code == 78 and "--leavers" in said(r)


def test_every_retention_command_has_help_with_an_example(cli):
    from dataward.cli.retention import app
    for cmd in app.registered_commands:
        name = cmd.name or cmd.callback.__name__
        assert "Example:" in (cmd.callback.__doc__ or ""), name
        assert cli("retention", name, "--help").exit_code == 0


def test_doubtful_rows_are_printed_as_warnings_and_the_plan_still_made(cli, configured: School):
    text = configured.leavers.read_text(encoding="utf-8")
    first_row = text.splitlines()[1]
    configured.leavers.write_bytes((text + first_row + "\n").encode("cp1252"))
    r = cli("retention", "plan")
    assert r.exit_code == 0
    out = said(r)
    assert "warning: leavers.csv line 1: the file is not UTF-8" in out
    assert "warning: leavers.csv line 6: the same UPN as line 2" in out
    assert "due for deletion: 6" in out


def test_an_older_unapproved_plan_is_superseded_by_a_newer_one(cli, configured: School):
    """A plan made from last week's exports must not be approved after a pupil returned."""
    old = make_plan(cli)
    new = make_plan(cli)
    r = cli("retention", "approve", old, "--by", "Ann Smith")
    assert r.exit_code == 5 and "superseded by a newer plan" in said(r)
    assert cli("retention", "apply", old).exit_code == 5
    assert cli("retention", "approve", new, "--by", "Ann Smith").exit_code == 0
