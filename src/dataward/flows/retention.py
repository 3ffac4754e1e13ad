"""The weekly retention flow: plan, show the counts, wait for a named approver, apply,
then purge what has passed its grace period.

A thin wrapper around ``dataward.retention``. Tasks never persist results and return
counts and ids only; the artifact shows counts per reason, never a name or a path.
The wait for approval takes no process: a run from a deployment (``dataward serve``) is
*suspended*, so its process exits, and Prefect reschedules it when the approver answers in
the UI (name typed, ``approve`` ticked); the run then starts again from the top, and
``build_plan`` returns the plan it made before instead of making another. Only that task's
summary (a plan id and counts, never a name or a path) is persisted for this. A run
started by hand, with no deployment, pauses in its own process instead. Declining, or the
wait timing out, leaves every file where it is.

The typed name is who the approver says they are: the Prefect UI of a local server has no
login, so the audit record also names the operating-system account the flow ran under and
says the approval came through the UI (docs/retention.md says what that does and does not
prove).
"""
from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext

from .approval import WEEK_S, approve_then
from .common import load as _settings
from .common import retry_if_transient as _retry_if_transient


def _one_plan_per_run(context: Any, parameters: dict[str, Any]) -> str:
    """A resumed run gets back the plan its first start made (see the module docstring)."""
    run = FlowRunContext.get()
    return f"dataward-retention-plan-{run.flow_run.id if run and run.flow_run else 'adhoc'}"


# The only persisted task result in dataward: a plan id and counts per reason.
@task(persist_result=True, cache_key_fn=_one_plan_per_run)
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
            approve_plan(s, ledger, plan_id, approver, via="prefect-ui")
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
    plan = build_plan(config, as_of)
    create_markdown_artifact(key="retention-plan", markdown=_markdown(plan),
                             description="Retention plan: counts only")
    outcome: dict[str, Any] = {"plan": plan, "approved_by": None, "applied": None}
    if plan["due"]:
        approve_then(outcome, plan["plan_id"],
                     f"Approve retention plan {plan['plan_id']}: {plan['due']} image(s) go to "
                     "quarantine. Enter your full name and tick approve.",
                     lambda name: approve_and_apply(config, plan["plan_id"], name),
                     untouched="nothing was moved", timeout_s=approval_timeout_s,
                     poll_interval_s=poll_interval_s, resumable=True)
    if purge:
        outcome["purge"] = purge_due(config)
    return outcome
