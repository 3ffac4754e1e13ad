"""Waiting for a named approver: one helper for every flow that asks before it acts.

The run shows a form in the Prefect UI (full name, an ``approve`` box) and waits up to
``timeout_s``. A run from a deployment (``dataward serve``) whose earlier steps give the
same answer when the run starts again (``resumable``: the retention plan is cached per
run) is *suspended*: its process exits and Prefect starts the run again from the top when
the approver answers. Any other run *pauses* in its own process. The answer counts only
with ``approve`` ticked and a name typed; the name comes back with its spaces tidied, and
``None`` means not approved (declined, or the wait timed out). ``approve_then`` is the
whole step of a flow: wait, then apply with the name, or log that nothing changed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import get_run_logger
from prefect.context import FlowRunContext
from prefect.flow_runs import pause_flow_run, suspend_flow_run
from prefect.input import RunInput

WEEK_S = 7 * 24 * 3600


class Approval(RunInput):
    """What the approver enters in the Prefect UI."""

    approver: str  # the full name of the person approving, recorded in the audit log
    approve: bool = False


def wait_for_approver(description: str, key: str, *, timeout_s: int, poll_interval_s: int,
                      resumable: bool = False) -> str | None:
    """The approver's name once the run is approved in the UI; None if it is not."""
    wanted = Approval.with_initial_data(description=description, approver="")
    run = FlowRunContext.get()
    deployed = run is not None and run.flow_run is not None and bool(run.flow_run.deployment_id)
    if resumable and deployed:
        answer = suspend_flow_run(wait_for_input=wanted, timeout=timeout_s, key=key)
    else:
        answer = pause_flow_run(wait_for_input=wanted, timeout=timeout_s,
                                poll_interval=poll_interval_s, key=key)
    name = " ".join((answer.approver or "").split()) if answer is not None else ""
    return name if answer is not None and answer.approve and name else None


def approve_then(outcome: dict[str, Any], plan_id: str, description: str,
                 act: Callable[[str], dict[str, Any]], *, untouched: str, timeout_s: int,
                 poll_interval_s: int, resumable: bool = False) -> None:
    """Wait for a named approver of ``plan_id``; once approved, record the name in
    ``outcome["approved_by"]`` and what ``act(name)`` (the task that approves and applies
    the plan) returns in ``outcome["applied"]``; else log that ``untouched`` holds."""
    name = wait_for_approver(description, f"approve-{plan_id}", timeout_s=timeout_s,
                             poll_interval_s=poll_interval_s, resumable=resumable)
    if name:
        outcome["approved_by"] = name
        outcome["applied"] = act(name)
    else:
        get_run_logger().info("plan %s was not approved; %s", plan_id, untouched)
