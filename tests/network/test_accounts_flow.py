"""weekly_accounts on the real Prefect test harness against the real domain controller:
it waits for a named approver, then disables the leavers' accounts."""
from __future__ import annotations

import threading
import time

from .test_accounts import _findings, acc_home  # noqa: F401 - fixtures reused


def _paused_run(started: float):
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    paused = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])))
    deadline = time.monotonic() + 90
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            for run in client.read_flow_runs(flow_run_filter=paused, limit=20,
                                             sort=FlowRunSort.ID_DESC, offset=0):
                if run.created and run.created.timestamp() >= started:
                    return run
            time.sleep(0.5)
    raise AssertionError("the flow never paused for approval")


def test_weekly_accounts_waits_for_approval_then_disables(prefect_harness, acc_home, cli):  # noqa: F811 - the fixture imported above
    from prefect.flow_runs import resume_flow_run

    from dataward.flows.accounts import weekly_accounts
    box: dict = {}

    def target():
        try:
            box["result"] = weekly_accounts(poll_interval_s=1, approval_timeout_s=120)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            box["error"] = exc

    started = time.time() - 1
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    run = _paused_run(started)
    assert _findings(cli).get("leaver-enabled") == {"bokafor", "fgreen"}  # nothing changed yet
    resume_flow_run(run.id, run_input={"approver": "Ann Smith", "approve": True})
    thread.join(120)
    assert "error" not in box, box.get("error")
    outcome = box["result"]
    assert outcome["approved_by"] == "Ann Smith" and outcome["applied"]["disabled"] == 2
    assert outcome["audit"]["counts"]["leaver-enabled"] == 2
    assert _findings(cli).get("leaver-enabled") is None
    undone = cli("accounts", "undo", outcome["audit"]["plan_id"])   # the DC is shared
    assert undone.exit_code == 0 and "enabled 2" in undone.stdout
