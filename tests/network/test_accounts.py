"""Leavers' accounts against a real Samba AD domain controller: the audit, and the
plan -> approve -> apply -> undo of disabling, with each step in the audit log."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from .conftest import PEOPLE, TODAY
from .samba_dc import BASE_DN


def _write_mis(home: Path) -> dict:
    pupils = [p for p in PEOPLE if p.kind == "pupil"]
    staff = [p for p in PEOPLE if p.kind == "staff"]
    mis = home / "mis"
    mis.mkdir(exist_ok=True)
    leavers = ["UPN,Legal Forename,Legal Surname,Date of Leaving"]
    leavers += [f"{p.upn},{p.given},{p.surname},{p.left:%d/%m/%Y}" for p in pupils if p.left]
    roll = ["UPN,Legal Forename,Legal Surname"]
    roll += [f"{p.upn},{p.given},{p.surname}" for p in pupils if not p.left]
    rows = ["Staff Code,Forename,Surname,Employment End Date"]
    rows += [f"{p.sam[:3].upper()},{p.given},{p.surname},{p.left:%d/%m/%Y}" if p.left
             else f"{p.sam[:3].upper()},{p.given},{p.surname}," for p in staff]
    for name, lines in (("leavers.csv", leavers), ("on-roll.csv", roll), ("staff.csv", rows)):
        (mis / name).write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    return {"leavers_csv": str(mis / "leavers.csv"), "on_roll_csv": str(mis / "on-roll.csv"),
            "staff_csv": str(mis / "staff.csv")}


@pytest.fixture
def acc_home(net_home: Path) -> Path:
    cfg_path = net_home / "dataward.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    paths = _write_mis(net_home)
    cfg["retention"] = {"leavers_csv": paths["leavers_csv"], "on_roll_csv": paths["on_roll_csv"]}
    cfg["accounts"]["staff_csv"] = paths["staff_csv"]
    cfg_path.write_text(yaml.safe_dump(cfg))
    return net_home


def _findings(cli, *args) -> dict[str, set[str]]:
    r = cli("accounts", "audit", "--json", *args)
    assert r.exit_code == 0, r.output
    out: dict[str, set[str]] = {}
    for line in r.stdout.splitlines():
        f = json.loads(line)
        out.setdefault(f["finding"], set()).add(f["account"])
    return out


def test_audit_finds_leavers_shared_and_unmatched_accounts(acc_home, cli):
    today = _findings(cli)
    assert today.get("leaver-enabled") == {"bokafor", "fgreen"}   # not clewis: left 10 days ago
    assert today.get("no-match") == {"zunknown"}
    assert "shared-password" not in today                         # set today
    later = _findings(cli, "--as-of", str(TODAY + timedelta(days=400)))
    assert later["shared-password"] == {"office-shared", "year6-ipad"}
    assert later["leaver-enabled"] == {"bokafor", "fgreen", "clewis"}
    from dataward.ledger import Ledger
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger:
        records = ledger.audit_records(action_prefix="accounts.audit")
    assert records and records[-1].details["counts"]["leaver-enabled"] == 3
    stored = (acc_home / "ledger.sqlite").read_bytes()
    assert b"bokafor" not in stored and b"Okafor" not in stored


def _uac(samba_dc, sam: str) -> dict:
    conn = samba_dc.ldap()
    conn.search(BASE_DN, f"(sAMAccountName={sam})", attributes=["*"])
    attrs = dict(conn.entries[0].entry_attributes_as_dict)
    conn.unbind()
    return attrs


VOLATILE = {"userAccountControl", "whenChanged", "uSNChanged", "dSCorePropagationData"}


def test_disable_plan_approve_apply_undo(acc_home, cli, samba_dc):
    before = {sam: _uac(samba_dc, sam) for sam in ("bokafor", "fgreen", "apatel")}
    r = cli("accounts", "plan")
    assert r.exit_code == 0, r.output
    plan_id = r.stdout.split()[1].rstrip(":")
    assert "2 account(s) to disable" in r.stdout
    refused = cli("accounts", "apply", plan_id)
    assert refused.exit_code == 5 and "not approved" in refused.output
    assert cli("accounts", "approve", plan_id, "--by", "Ann Smith (DPO)").exit_code == 0
    shown = cli("accounts", "show", plan_id)
    assert "Ann Smith (DPO)" in shown.stdout and "bokafor" not in shown.stdout
    applied = cli("accounts", "apply", plan_id)
    assert applied.exit_code == 0, applied.output
    for sam in ("bokafor", "fgreen"):
        after = _uac(samba_dc, sam)
        assert after["userAccountControl"][0] == before[sam]["userAccountControl"][0] | 0x2
        changed = {k for k in set(after) | set(before[sam]) if after.get(k) != before[sam].get(k)}
        assert changed <= VOLATILE, changed
    assert _uac(samba_dc, "apatel")["userAccountControl"] == before["apatel"]["userAccountControl"]
    assert _findings(cli).get("leaver-enabled") is None
    undone = cli("accounts", "undo", plan_id)
    assert undone.exit_code == 0 and "enabled 2" in undone.stdout
    for sam in ("bokafor", "fgreen"):
        assert _uac(samba_dc, sam)["userAccountControl"] == before[sam]["userAccountControl"]
    from dataward.ledger import Ledger
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger:
        recs = ledger.audit_records(action_prefix="accounts.")
        assert ledger.verify_audit().ok
    actions = [r.action for r in recs]
    assert actions.count("accounts.disable") == 2 and actions.count("accounts.undo") == 2
    approve = next(r for r in recs if r.action == "accounts.approve")
    assert approve.actor == "Ann Smith (DPO)" and approve.details["os_user"]


def test_wrong_directory_password_is_one_clear_error(acc_home, cli):
    (acc_home / "secrets" / "ldap.pass").write_text("wrong\n")
    r = cli("accounts", "audit")
    assert r.exit_code == 12 and "wrong user name or password" in r.output


def test_dpo_report_shows_who_can_read_and_the_accounts_section(acc_home, cli, samba_dc):
    from dataward.pipelines.report import write_report
    from dataward.pipelines.scan import run_scan
    from dataward.settings import load_settings
    s = load_settings()
    run_scan(s)
    assert cli("accounts", "audit").exit_code == 0
    for fmt in ("md", "html"):
        text = write_report(s, fmt=fmt).path.read_text()
        care = samba_dc.unc("Year 6", "Health", "care plan.txt")
        if fmt == "html":
            import html
            text = html.unescape(text)
        assert care in text
        assert f"Pupils: {samba_dc.unc('Year 6')}" in text
        assert "Leavers' accounts" in text
        assert "bokafor" not in text and "Okafor" not in text
    md = write_report(s, fmt="md").path.read_text()
    assert "2 leavers' accounts still enabled" in md
