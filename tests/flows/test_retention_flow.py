"""weekly_retention on the real Prefect test harness: it pauses for a named approver in
the way the Prefect UI resumes it, and moves nothing unless approved."""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from tests.prefect_runs import paused_run, run_in_thread

# The retention tests' fixtures (real JPEGs, MIS exports, a config), loaded by path so
# this works however pytest is started.
_spec = importlib.util.spec_from_file_location(
    "retention_fixtures", Path(__file__).resolve().parents[1] / "retention" / "conftest.py")
_fixtures = sys.modules["retention_fixtures"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
School, school, configured = _fixtures.School, _fixtures.school, _fixtures.configured


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*.jpg")
            if ".dataward-quarantine" not in p.parts}


@pytest.mark.parametrize("approve", [True, False])
def test_weekly_retention_waits_for_a_named_approver(prefect_harness, configured: School,
                                                     approve: bool):
    from prefect.flow_runs import resume_flow_run

    from dataward.flows.retention import weekly_retention
    before = _files(configured.root)
    started = time.time() - 1
    thread, box = run_in_thread(weekly_retention, poll_interval_s=1, approval_timeout_s=120)
    run = paused_run(started)
    assert _files(configured.root) == before  # nothing moves while waiting
    resume_flow_run(run.id, run_input={"approver": "Ann  Smith", "approve": approve})
    thread.join(120)
    assert "error" not in box, box.get("error")
    outcome = box["result"]
    plan_id = outcome["plan"]["plan_id"]
    assert outcome["plan"]["due"] == 6
    if approve:
        assert outcome["approved_by"] == "Ann Smith"
        assert outcome["applied"]["quarantined"] == 6
        assert len(before - _files(configured.root)) == 6
        from dataward.ledger import Ledger
        from dataward.retention import store
        from dataward.settings import load_settings
        with Ledger.for_settings(load_settings()) as ledger:
            assert store.get_plan(ledger, plan_id).approved_by == "Ann Smith"
    else:
        assert outcome["applied"] is None and _files(configured.root) == before

    from prefect import get_client
    with get_client(sync_client=True) as client:
        # a plain filter request: this client version sends nulls the server rejects
        resp = client.request("POST", "/artifacts/filter", json={
            "artifacts": {"key": {"any_": ["retention-plan"]}},
            "flow_runs": {"id": {"any_": [str(run.id)]}}, "limit": 5, "sort": "CREATED_DESC"})
    md = resp.json()[0]["data"]
    assert plan_id in md and "| due | 6 |" in md
    for secret in ("Jane", "Doe", "Omar", "Khan", str(configured.root)):
        assert secret not in md
