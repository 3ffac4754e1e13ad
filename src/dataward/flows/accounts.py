"""The weekly accounts flow: audit the directories against the MIS leavers, plan to
disable leavers' accounts still enabled, wait for a named approver, apply.

A thin wrapper around ``dataward.accounts``. Tasks never persist results and return
counts and ids only; the artifact shows counts, never an account name.
"""
from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from .approval import WEEK_S, approve_then
from .common import load as _settings
from .common import retry_if_transient as _retry_if_transient


@task(persist_result=False, retries=2, retry_delay_seconds=60,
      retry_condition_fn=_retry_if_transient)
def audit_and_plan(config: str | None, as_of: str | None) -> dict[str, Any]:
    from datetime import date

    from ..accounts.service import make_plan, run_audit
    from ..home import open_ledger
    s = _settings(config)
    with open_ledger(s) as ledger:
        run = run_audit(s, ledger, as_of=date.fromisoformat(as_of) if as_of else None)
        plan = make_plan(s, ledger, run, actor="weekly_accounts")
    return {"audit_id": run.audit_id, "as_of": run.result.as_of.isoformat(),
            "accounts": run.result.accounts, "counts": run.result.counts,
            "plan_id": plan.plan_id, "to_disable": plan.items}


@task(persist_result=False, retries=2, retry_delay_seconds=60,
      retry_condition_fn=_retry_if_transient)
def approve_and_disable(config: str | None, plan_id: str, approver: str) -> dict[str, Any]:
    from ..accounts import store
    from ..accounts.service import apply_plan, approve_plan
    from ..home import open_ledger
    s = _settings(config)
    with open_ledger(s) as ledger:
        if store.get_plan(ledger, plan_id).status == store.PLANNED:
            approve_plan(s, ledger, plan_id, approver)
        r = apply_plan(s, ledger, plan_id, actor="weekly_accounts")
    return {"plan_id": plan_id, "disabled": r.disabled, "refused": len(r.refused)}


def _markdown(a: dict[str, Any]) -> str:
    c = a["counts"]
    return "\n".join([
        f"## Accounts audit `{a['audit_id']}` (as of {a['as_of']})", "",
        f"Accounts looked at: **{a['accounts']}**.", "",
        "| finding | accounts |", "|---|---|",
        f"| leavers still enabled past the deadline | {c['leaver-enabled']} |",
        f"| shared accounts with old passwords | {c['shared-password']} |",
        f"| accounts matching no one | {c['no-match']} |", "",
        (f"Plan `{a['plan_id']}` disables {a['to_disable']} account(s) in Active Directory. "
         f"Details: `dataward accounts show {a['plan_id']}`. Approve by resuming this run with "
         "your full name and `approve` ticked.")])


@flow(name="weekly_accounts", persist_result=False, log_prints=False)
def weekly_accounts(config: str | None = None, as_of: str | None = None,
                    approval_timeout_s: int = WEEK_S, poll_interval_s: int = 10) -> dict[str, Any]:
    """Audit leavers' accounts, wait for a named approver, disable them in AD."""
    audit = audit_and_plan(config, as_of)
    create_markdown_artifact(key="accounts-audit", markdown=_markdown(audit),
                             description="Leavers' accounts: counts only")
    outcome: dict[str, Any] = {"audit": audit, "approved_by": None, "applied": None}
    if audit["to_disable"]:
        # Pauses, never suspends: a restarted run would audit again and make a new plan.
        approve_then(outcome, audit["plan_id"],
                     f"Approve accounts plan {audit['plan_id']}: {audit['to_disable']} account(s) "
                     "will be disabled. Enter your full name and tick approve.",
                     lambda name: approve_and_disable(config, audit["plan_id"], name),
                     untouched="no account was changed", timeout_s=approval_timeout_s,
                     poll_interval_s=poll_interval_s)
    return outcome
