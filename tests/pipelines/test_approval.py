"""Approving a plan is one rule for every job: `dataward retention approve` and
`dataward accounts approve` record the approver's tidied name and the operating-system
account, and refuse the same bad input with the same words."""
from __future__ import annotations

import getpass
import re
from pathlib import Path

import pytest
import yaml

from dataward.ledger import Ledger
from dataward.settings import load_settings

GOOGLE = ("First Name [Required],Last Name [Required],Email Address [Required],"
          "Password [Required],Org Unit Path [Required],Employee ID,Status [READ ONLY],"
          "Last Sign In [READ ONLY]\n"
          "Finn,Green,finn.green@oakfield.sch.uk,****,/Pupils/Year 6,,Active,2025/06/30 14:02:11\n")


@pytest.fixture
def both_jobs(dw_home: Path) -> Path:
    """A config where both jobs can plan: a leavers export, an empty image folder, and
    a Google Workspace export (no LDAP directory, so the accounts plan has no items)."""
    mis = dw_home / "mis"
    mis.mkdir()
    (mis / "leavers.csv").write_text("UPN,Forename,Surname,Date of Leaving\n,Finn,Green,18/07/2025\n")
    (mis / "google.csv").write_text(GOOGLE)
    images = dw_home / "images"
    images.mkdir()
    cfg = {"school": {"name": "Test School", "domains": ["oakfield.sch.uk"]},
           "retention": {"leavers_csv": str(mis / "leavers.csv"), "image_roots": [str(images)],
                         "approvers": ["Ann Smith"]},
           "accounts": {"approvers": ["Ann Smith"], "directories": [
               {"name": "google", "kind": "google-csv", "path": str(mis / "google.csv")}]}}
    (dw_home / "dataward.yaml").write_text(yaml.safe_dump(cfg))
    return dw_home


def _plan(cli, job: str) -> str:
    r = cli(job, "plan")
    assert r.exit_code == 0, r.output
    return re.search(r"plan ([ar]p-\S+?):?\s", r.stdout).group(1)


def _approvals(cli, job: str) -> list[tuple[int, str]]:
    """What the approve command answers to each kind of input, the plan ids written as
    PLAN and OLD so that the two jobs can be compared."""
    old = _plan(cli, job)
    plan = _plan(cli, job)
    answers = []
    for plan_id, by in (("latest", "Ann Smith"), (plan, "   "), (plan, "Bob Jones"),
                        (old, "Ann Smith"), (plan, "  ann   smith "), (plan, "Ann Smith")):
        r = cli(job, "approve", plan_id, "--by", by)
        text = " ".join(r.stderr.split()) if r.exit_code else f"approved {plan_id}"
        answers.append((r.exit_code, text.replace(plan, "PLAN").replace(old, "OLD")
                        .replace(f"dataward {job} ", "dataward JOB ").replace(f"{job}.", "JOB.")))
    return answers


def test_both_approve_commands_refuse_the_same_input_and_record_the_os_user(both_jobs, cli):
    accounts = _approvals(cli, "accounts")
    retention = _approvals(cli, "retention")
    assert accounts == retention
    assert [code for code, _ in accounts] == [2, 2, 5, 5, 0, 5]
    said = [text for _, text in accounts]
    assert "never `latest`" in said[0]
    assert 'name the person approving with --by "Full Name"' in said[1]
    assert "'Bob Jones' is not one of the approvers in the config" in said[2]
    assert "plan OLD was superseded by a newer plan" in said[3]
    assert "`dataward JOB list`" in said[3]
    assert said[5].startswith("error: plan PLAN is already approved (approved by ann smith)")

    with Ledger.for_settings(load_settings()) as ledger:
        for job in ("accounts", "retention"):
            records = ledger.audit_records(action_prefix=f"{job}.approve")
            assert len(records) == 1     # the refused attempts left no approval behind
            assert records[0].actor == "ann smith"      # the typed name, spaces tidied
            assert records[0].details["os_user"] == getpass.getuser()


def test_both_jobs_store_and_find_plans_alike(both_jobs, cli):
    """A new plan supersedes the one still waiting; `latest` is the newest; an unknown
    id is one NotFoundError naming the job's list command."""
    from dataward.accounts import store as accounts_store
    from dataward.errors import NotFoundError
    from dataward.retention import store as retention_store
    stores = {"accounts": accounts_store, "retention": retention_store}
    made = {job: [_plan(cli, job), _plan(cli, job)] for job in stores}
    with Ledger.for_settings(load_settings()) as ledger:
        for job, store in stores.items():
            old, new = made[job]
            assert [(r.plan_id, r.status) for r in store.list_plans(ledger)] == [
                (new, "planned"), (old, "superseded")]
            assert store.get_plan(ledger, "latest").plan_id == new
            with pytest.raises(NotFoundError) as missing:
                store.get_plan(ledger, "xp-nope")
            assert str(missing.value) == (f"no {job} plan 'xp-nope' "
                                          f"(`dataward {job} list` shows the plans)")
