"""The accounts jobs around the pure audit: read the MIS exports and the directories,
record the audit, and plan, approve, apply and undo disabling leavers' accounts.

Only LDAP accounts are disabled by dataward (ACCOUNTDISABLE in userAccountControl, and
nothing else); accounts found in a Google Workspace or Microsoft 365 export are listed for
the technician to suspend in that admin console.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..connectors.directory import (
    Account,
    find_directory,
    ldap_connect,
    read_directory,
    set_account_disabled,
)
from ..errors import ConfigError, IntegrityError, RefusedError
from ..ledger import Ledger, current_user, utcnow
from ..pipelines.approval import approver_named, refuse_unless_waiting
from ..pipelines.mis import Pupil, StaffMember, read_pupils, read_staff
from ..settings import Settings
from . import store
from .audit import LEAVER, AuditResult, People, audit_accounts


@dataclass(frozen=True)
class AuditRun:
    audit_id: str
    result: AuditResult
    warnings: list[str]


def read_people(settings: Settings, as_of: date) -> tuple[People, list[str]]:
    from ..home import fingerprint_key
    r, a = settings.retention, settings.accounts
    if r.leavers_csv is None and a.staff_csv is None:
        raise ConfigError("no MIS exports to audit against",
                          hint="set retention.leavers_csv (pupils) and accounts.staff_csv (staff)")
    pupils: list[Pupil] = []
    warnings: list[str] = []
    for path, leavers in ((r.leavers_csv, True), (r.on_roll_csv, False)):
        if path is not None:
            got = read_pupils(path, leavers=leavers)
            pupils.extend(got.pupils)
            warnings.extend(str(w) for w in got.warnings)
    staff: list[StaffMember] = []
    if a.staff_csv is not None:
        staff, issues = read_staff(a.staff_csv)
        warnings.extend(str(w) for w in issues)
    return People(fingerprint_key(settings, create=True), pupils, staff, as_of), warnings


def run_audit(settings: Settings, ledger: Ledger, *, as_of: date | None = None,
              accounts: list[Account] | None = None) -> AuditRun:
    """Audit every configured directory; record the counts (never names) in the ledger."""
    as_of = as_of or date.today()
    if accounts is None:
        if not settings.accounts.directories:
            raise ConfigError("no directories to audit", hint="add accounts.directories to the config")
        accounts = [acc for d in settings.accounts.directories for acc in read_directory(d)]
    people, warnings = read_people(settings, as_of)
    result = audit_accounts(accounts, people, settings.accounts, as_of)
    audit_id = f"aa-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    dirs = sorted({d.name for d in settings.accounts.directories})
    with ledger.begin() as conn:
        store.insert_audit(conn, {"audit_id": audit_id, "created": utcnow(), "as_of": as_of.isoformat(),
                                  "accounts": result.accounts, "counts": json.dumps(result.counts),
                                  "directories": json.dumps(dirs)})
        ledger.audit("accounts.audit", audit_id, conn=conn, accounts=result.accounts,
                     counts=result.counts, as_of=as_of.isoformat())
    return AuditRun(audit_id, result, warnings)


def make_plan(settings: Settings, ledger: Ledger, run: AuditRun, *, actor: str | None = None) -> Any:
    """A plan to disable every leaver's account still enabled in an LDAP directory."""
    kinds = {d.name: d.kind for d in settings.accounts.directories}
    due = [f for f in run.result.findings if f.kind == LEAVER and kinds.get(f.directory) == "ldap"]
    plan_id = f"ap-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    items = [{"item_no": n, "directory": f.directory, "account_key": f.key, "masked": f.masked,
              "person": f.person, "reason": f.why, "uac_before": f.uac, "state": store.WAITING}
             for n, f in enumerate(due, start=1)]
    row = {"plan_id": plan_id, "audit_id": run.audit_id, "created": utcnow(),
           "as_of": run.result.as_of.isoformat(), "status": store.PLANNED, "items": len(items)}
    with ledger.begin() as conn:
        superseded = store.insert_plan(conn, row, items)
        ledger.audit("accounts.plan", plan_id, actor=actor, conn=conn, audit_id=run.audit_id,
                     items=len(items), superseded=superseded)
    return store.get_plan(ledger, plan_id)


def approve_plan(settings: Settings, ledger: Ledger, plan_id: str, by: str) -> Any:
    """A named person approves; the OS user who ran the command is recorded beside."""
    by = approver_named(plan_id, by, settings.accounts.approvers, job="accounts")
    row = store.get_plan(ledger, plan_id)
    refuse_unless_waiting(row.plan_id, row.status, row.approved_by, job="accounts")
    os_user = current_user()
    with ledger.begin() as conn:
        store.set_plan(conn, row.plan_id, status=store.APPROVED, approved_by=by,
                       approved_os_user=os_user, approved_at=utcnow())
        ledger.audit("accounts.approve", row.plan_id, actor=by, conn=conn, os_user=os_user,
                     items=row.items)
    return store.get_plan(ledger, row.plan_id)


@dataclass(frozen=True)
class ApplyResult:
    disabled: int
    already: int
    refused: list[str]


def apply_plan(settings: Settings, ledger: Ledger, plan_id: str, *, actor: str | None = None) -> ApplyResult:
    """Disable each planned account (ACCOUNTDISABLE only), one audit record per account."""
    row = store.get_plan(ledger, plan_id)
    if row.status not in (store.APPROVED, store.APPLIED):
        raise RefusedError(f"plan {row.plan_id} is {row.status}, not approved",
                           hint=f"a named person runs `dataward accounts approve {row.plan_id} --by NAME`")
    disabled = already = 0
    refused: list[str] = []
    conns: dict[str, Any] = {}
    try:
        for it in store.plan_items(ledger, row.plan_id):
            if it.state != store.WAITING:
                already += 1
                continue
            d = find_directory(settings, it.directory)
            conn = conns.get(d.name) or conns.setdefault(d.name, ldap_connect(d))
            try:
                before, after = set_account_disabled(conn, d, it.account_key, True, it.uac_before)
            except (IntegrityError, RefusedError, ConfigError) as exc:
                refused.append(f"item {it.item_no}: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - one account must not stop the others
                refused.append(f"item {it.item_no}: {getattr(exc, 'message', type(exc).__name__)}")
                continue
            with ledger.begin() as lconn:
                store.set_item(lconn, row.plan_id, it.item_no, state=store.DISABLED,
                               changed_at=utcnow())
                ledger.audit("accounts.disable", f"{row.plan_id}:{it.item_no}",
                             actor=actor or row.approved_by, conn=lconn, directory=d.name,
                             account=it.account_key, uac_before=before, uac_after=after,
                             approved_by=row.approved_by)
            disabled += 1
        with ledger.begin() as lconn:
            store.set_plan(lconn, row.plan_id, status=store.APPLIED, applied_at=utcnow())
    finally:
        for c in conns.values():
            c.unbind()
    return ApplyResult(disabled, already, refused)


def undo(settings: Settings, ledger: Ledger, target: str, *, actor: str | None = None) -> int:
    """Enable again the accounts a plan disabled (PLAN, or PLAN:ITEM for one)."""
    plan_id, _, item = target.partition(":")
    row = store.get_plan(ledger, plan_id)
    items = [i for i in store.plan_items(ledger, row.plan_id)
             if i.state == store.DISABLED and (not item or str(i.item_no) == item)]
    if item and not items:
        raise RefusedError(f"item {target} was not disabled by dataward; nothing to undo")
    done = 0
    for it in items:
        d = find_directory(settings, it.directory)
        conn = ldap_connect(d)
        try:
            if it.uac_before is not None and it.uac_before & 0x2:
                continue  # it was disabled before dataward touched it: leave it so
            before, after = set_account_disabled(conn, d, it.account_key, False)
        finally:
            conn.unbind()
        with ledger.begin() as lconn:
            store.set_item(lconn, row.plan_id, it.item_no, state=store.RESTORED, changed_at=utcnow())
            ledger.audit("accounts.undo", f"{row.plan_id}:{it.item_no}", actor=actor, conn=lconn,
                         directory=d.name, account=it.account_key, uac_before=before,
                         uac_after=after)
        done += 1
    return done
