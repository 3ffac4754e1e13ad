"""weekly_retention from a deployment waits for approval without a process: the run is
suspended, the process that ran it exits, and the approver's answer in the UI (resume with
input) reschedules the run, which completes with the plan it made before."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from .test_retention_flow import _files, configured, school  # noqa: F401 - fixtures

SERVE = """
import sys
from dataward.flows.retention import weekly_retention
weekly_retention.serve(name="suspend-test", parameters={"purge": False})
"""


def _wait(predicate, what: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _runners(proc: subprocess.Popen) -> list[psutil.Process]:
    """The processes the serve process started to execute flow runs."""
    try:
        return [c for c in psutil.Process(proc.pid).children(recursive=True)
                if c.is_running() and c.status() != psutil.STATUS_ZOMBIE
                and "resource_tracker" not in " ".join(c.cmdline())]  # multiprocessing's own
    except psutil.NoSuchProcess:
        return []


def test_waiting_for_approval_frees_the_process(prefect_harness, configured, dw_home: Path):  # noqa: F811 - the fixture
    from prefect import get_client
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(),
               PREFECT_RUNNER_POLL_FREQUENCY="1", PREFECT_HOME=str(prefect_harness))
    serve = subprocess.Popen([sys.executable, "-c", SERVE], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with get_client(sync_client=True) as client:
            def deployment():
                try:
                    return client.read_deployment_by_name("weekly_retention/suspend-test")
                except Exception:  # noqa: BLE001 - not created yet
                    return None
            _wait(deployment, "the served deployment")
            before = _files(configured.root)
            run = run_deployment("weekly_retention/suspend-test", timeout=0)

            def state():
                return client.read_flow_run(run.id).state
            suspended = _wait(lambda: (s := state()) and s.name == "Suspended" and s,
                              "the run to be suspended")
            assert suspended.is_paused()
            # Nothing runs the flow while it waits, and nothing has moved.
            _wait(lambda: not _runners(serve), "the flow run's process to exit", 30)
            assert _files(configured.root) == before

            resume_flow_run(run.id, run_input={"approver": "Ann Smith", "approve": True})
            final = _wait(lambda: (s := state()) and s.is_final() and s, "the resumed run", 120)
            assert final.is_completed(), final
    finally:
        serve.terminate()
        serve.wait(30)

    assert len(before - _files(configured.root)) == 6
    from dataward.ledger import Ledger
    from dataward.retention import store
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger:
        plans = ledger.audit_records(action_prefix="retention.plan")
        approvals = ledger.audit_records(action_prefix="retention.approve")
        assert len(plans) == 1                      # the resumed run kept its first plan
        assert store.get_plan(ledger, plans[0].subject).approved_by == "Ann Smith"
    assert approvals[-1].details["via"] == "prefect-ui"
