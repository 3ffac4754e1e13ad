"""The weekly retention flow: plan, show the counts, wait for a named approver, apply,
then purge what has passed its grace period.

A thin wrapper around ``dataward.retention``. Tasks never persist results and return
counts and ids only; the artifact shows counts per reason, never a name or a path.
The pause waits for input in the Prefect UI: the approver types their name and ticks
``approve``; declining (or the pause timing out) leaves every file where it is.
"""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

from .common import load as _settings
from .common import retry_if_transient as _retry_if_transient

WEEK_S = 7 * 24 * 3600


class RetentionApproval(RunInput):
    """What the approver enters in the Prefect UI."""

    approver: str  # the full name of the person approving, recorded in the audit log
    approve: bool = False


@task(persist_result=False)
def build_plan(config: str | None, as_of: str | None) -> dict[str, Any]:
    from datetime import date

    from ..home import open_ledger
    from ..retention.planning import inputs_from, make_plan
    s = _settings(config)
    inputs = inputs_from(s, as_of=date.fromisoformat(as_of) if as_of else None)
    with open_ledger(s) as ledger:
        summary = make_plan(s, ledger, inputs, actor="weekly_retention")
    return {"plan_id": summary.plan_id, "as_of": summary.as_of.isoformat(),
            "images": summary.images, "due": summary.due, "due_bytes": summary.due_bytes,
            "counts": summary.counts, "warnings": len(summary.warnings)}


@task(persist_result=False, retries=3, retry_delay_seconds=60,
      retry_condition_fn=_retry_if_transient)
def approve_and_apply(config: str | None, plan_id: str, approver: str) -> dict[str, Any]:
    from ..home import open_ledger
    from ..retention import store
    from ..retention.planning import approve_plan
    from ..retention.quarantine import apply_plan
    s = _settings(config)
    with open_ledger(s) as ledger:
        if store.get_plan(ledger, plan_id).status == store.PLANNED:
            approve_plan(s, ledger, plan_id, approver)
        r = apply_plan(s, ledger, plan_id, actor="weekly_retention")
    return {"plan_id": plan_id, "quarantined": r.moved, "bytes": r.bytes_moved}


@task(persist_result=False, retries=3, retry_delay_seconds=60,
      retry_condition_fn=_retry_if_transient)
def purge_due(config: str | None) -> dict[str, Any]:
    from ..home import open_ledger
    from ..retention.purge import purge
    s = _settings(config)
    with open_ledger(s) as ledger:
        r = purge(s, ledger, actor="weekly_retention")
    return {"purged": r.purged, "bytes": r.bytes_purged, "waiting": r.waiting}


def _markdown(plan: dict[str, Any]) -> str:
    lines = [f"## Retention plan `{plan['plan_id']}` (as of {plan['as_of']})", "",
             f"Images looked at: **{plan['images']}**; due for deletion: **{plan['due']}** "
             f"({plan['due_bytes'] / 1e6:.1f} MB); warnings: {plan['warnings']}.", "",
             "| decision | images |", "|---|---|"]
    lines += [f"| {code} | {n} |" for code, n in plan["counts"].items()]
    lines += ["", f"Details: `dataward retention show {plan['plan_id']}`. Approve by resuming "
              "this run with your full name and `approve` ticked."]
    return "\n".join(lines)


@flow(name="weekly_retention", persist_result=False, log_prints=False)
def weekly_retention(config: str | None = None, as_of: str | None = None,
                     approval_timeout_s: int = WEEK_S, poll_interval_s: int = 10,
                     purge: bool = True) -> dict[str, Any]:
    """Plan deletions of leavers' images, wait for a named approver, quarantine, purge."""
    log = get_run_logger()
    plan = build_plan(config, as_of)
    create_markdown_artifact(key="retention-plan", markdown=_markdown(plan),
                             description="Retention plan: counts only")
    outcome: dict[str, Any] = {"plan": plan, "approved_by": None, "applied": None}
    if plan["due"]:
        answer = pause_flow_run(
            wait_for_input=RetentionApproval.with_initial_data(
                description=f"Approve retention plan {plan['plan_id']}: {plan['due']} image(s) "
                            "go to quarantine. Enter your full name and tick approve.",
                approver=""),
            timeout=approval_timeout_s, poll_interval=poll_interval_s,
            key=f"approve-{plan['plan_id']}")
        name = " ".join((answer.approver or "").split()) if answer else ""
        if answer is not None and answer.approve and name:
            outcome["approved_by"] = name
            outcome["applied"] = approve_and_apply(config, plan["plan_id"], name)
        else:
            log.info("plan %s was not approved; nothing was moved", plan["plan_id"])
    if purge:
        outcome["purge"] = purge_due(config)
    return outcome
