"""weekly_accounts on the real Prefect test harness against the real domain controller:
it waits for a named approver, then disables the leavers' accounts."""
from __future__ import annotations

import time

from tests.prefect_runs import paused_run, run_in_thread

from .test_accounts import _findings, acc_home  # noqa: F401 - fixtures reused


def test_weekly_accounts_waits_for_approval_then_disables(prefect_harness, acc_home, cli):  # noqa: F811 - the fixture imported above
    from prefect.flow_runs import resume_flow_run

    from dataward.flows.accounts import weekly_accounts
    started = time.time() - 1
    thread, box = run_in_thread(weekly_accounts, poll_interval_s=1, approval_timeout_s=120)
    run = paused_run(started)
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
