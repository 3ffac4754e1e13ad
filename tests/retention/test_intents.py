"""One bad plan must not stop all retention (issue 16). A restore refused because its
folder was swapped for a symlink leaves an open intent; it holds up that plan only, and
`retention abandon PLAN --by NAME` closes it, audited."""
from __future__ import annotations

import os
from pathlib import Path

from .conftest import School, make_jpeg
from .test_commands import make_plan, said

GRACE_0 = {"DATAWARD_RETENTION__GRACE_DAYS": "0"}


def _jpgs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jpg")) if folder.exists() else []


def test_a_refused_restore_holds_up_its_own_plan_only(cli, configured: School, tmp_path: Path):
    school = configured
    plan_a = make_plan(cli)
    assert cli("retention", "approve", plan_a, "--by", "Ann Smith").exit_code == 0
    assert cli("retention", "apply", plan_a).exit_code == 0
    qa = school.root / ".dataward-quarantine" / plan_a
    assert len(_jpgs(qa)) == 6

    # The emptied folder of a due file is swapped for a symlink: the restore is refused
    # part-way, and its intent stays open.
    folder = school.root / "Pupils" / "Jane Doe"
    folder.rmdir()
    os.symlink(school.outside, folder)
    r = cli("retention", "restore", plan_a)
    assert r.exit_code == 77, r.output
    in_quarantine = len(_jpgs(qa))       # those before the swapped folder came back
    assert 0 < in_quarantine < 6

    # Another plan, on another image root, goes on: plan, approve, apply, purge.
    root_b = tmp_path / "photos-b"
    make_jpeg(root_b / "Trips" / "Khan_Omar_trip.jpg", seed=40)
    plan_b = make_plan(cli, "--images", str(root_b))
    assert cli("retention", "approve", plan_b, "--by", "Ann Smith").exit_code == 0
    r = cli("retention", "apply", plan_b)
    assert r.exit_code == 0, r.output
    r = cli("retention", "purge", "--yes", env=GRACE_0)
    assert r.exit_code == 3, r.output
    assert plan_a in said(r) and "retention abandon" in said(r)
    assert _jpgs(root_b / ".dataward-quarantine" / plan_b) == []      # plan B purged
    assert len(_jpgs(qa)) == in_quarantine                             # plan A untouched

    # Plan A itself says why it is held up and the way out.
    r = cli("retention", "apply", plan_a)
    assert r.exit_code == 77 and f"retention abandon {plan_a} --by" in said(r), r.output
    assert "Jane" not in said(r)

    r = cli("retention", "abandon", plan_a, "--by", "Ann Smith (DPO)", "--reason",
            "folder put right by hand")
    assert r.exit_code == 0, r.output
    assert cli("retention", "abandon", plan_a, "--by", "Ann Smith").exit_code == 4
    from dataward.ledger import Ledger
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger:
        (rec,) = ledger.audit_records(action_prefix="retention.intent.abandoned")
        assert rec.subject == plan_a and rec.actor == "Ann Smith (DPO)"
        assert rec.details["ops"] == {"restore": in_quarantine}
        assert ledger.verify_audit().ok

    # Nothing holds up retention any more: plan A's files are purged with the rest.
    r = cli("retention", "purge", "--yes", env=GRACE_0)
    assert r.exit_code == 0, r.output
    assert _jpgs(qa) == []
    assert sorted(p.name for p in school.outside.iterdir()) == []


def test_abandon_needs_a_name(cli, configured: School):
    plan_id = make_plan(cli)
    r = cli("retention", "abandon", plan_id, "--by", "  ")
    assert r.exit_code == 2 and "needs a name" in said(r)
