"""`dataward serve` really runs what it schedules, and SIGTERM stops all it started.

A real `dataward serve` process (its own local Prefect server under the state folder, not
the test harness) serves every flow. The config gives ``nightly_scan`` the test-only
``every_seconds`` schedule; the other four keep their cron schedules. The test then asks
the Prefect API, as the UI would:

* every deployment has SCHEDULED flow runs. These are made by the Prefect server's
  scheduler service, not by ``serve()``. With SQLAlchemy 2.1 (what pip resolved before
  the bound in pyproject.toml) that service fails on every loop ("Can't evaluate bulk DML
  statement", in ``<state>/prefect/server.log``) and no run is ever scheduled, so this
  assertion fails there: the schedule definitions alone (test_serve.py) prove nothing;
* one ``nightly_scan`` run made by the scheduler (``auto_scheduled``) went to COMPLETED,
  and the scan it ran is in dataward's ledger (a complete scan and its audit record).

Then it sends SIGTERM (what systemd and container runtimes send) and checks that no
process `dataward serve` started survives: the Prefect server, the serve child, flow-run
processes and scan workers.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from dataward.flows.serve import FLOWS as SERVED

# Every flow `dataward serve` deploys (its own list, so a new flow is covered too).
FLOWS = {name for _module, _attr, name in SERVED}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(api: str, path: str, body: dict) -> list[dict]:
    req = urllib.request.Request(f"{api}{path}", method="POST", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def _runs(api: str, deployment_id: str, state: str) -> list[dict]:
    return _post(api, "/flow_runs/filter", {
        "deployments": {"id": {"any_": [deployment_id]}},
        "flow_runs": {"state": {"type": {"any_": [state]}}}, "limit": 10})


def _wait(what: str, check, proc: subprocess.Popen, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"dataward serve exited while waiting for {what}"
        try:
            found = check()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _kill_tree(proc: subprocess.Popen) -> None:
    """After a failure: leave nothing running (the children are in sessions of their own)."""
    if proc.poll() is not None:
        return
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    for p in tree:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(tree, timeout=10)
    proc.wait()


def test_serve_runs_its_schedules_and_sigterm_stops_everything(dw_home: Path, tmp_path: Path):
    share = tmp_path / "share"
    share.mkdir()
    (share / "minutes.txt").write_text("Staff meeting minutes. Contact head@oakfield.sch.uk.\n")
    cfg = dw_home / "dataward.yaml"
    cfg.write_text("school: {name: Test School, domains: [oakfield.sch.uk]}\n"
                   f"sources:\n  - {{name: office, path: {share}, audience: staff}}\n"
                   "scan: {workers: 1}\n"
                   "schedules:\n  nightly_scan: {every_seconds: 20}\n")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "DATAWARD_HOME": str(dw_home)}
    env.pop("PREFECT_API_URL", None)
    log = open(tmp_path / "serve.out", "w+")  # noqa: SIM115 - read back at the end
    proc = subprocess.Popen([str(Path(sys.executable).with_name("dataward")), "--config",
                             str(cfg), "serve", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deps = _wait("every deployment", lambda: (
            d if len(d := _post(api, "/deployments/filter", {"limit": 50})) == len(FLOWS)
            else None), proc, 300)
        by_name = {d["name"]: d["id"] for d in deps}
        assert set(by_name) == FLOWS

        # The server's scheduler made upcoming runs for every deployment.
        scheduled = _wait("scheduled runs of every deployment", lambda: (
            r if all((r := {n: _runs(api, i, "SCHEDULED") for n, i in by_name.items()}).values())
            else None), proc, 180)
        assert all(run["auto_scheduled"] for runs in scheduled.values() for run in runs)

        # One of nightly_scan's runs started by its schedule and finished.
        done = _wait("a scheduled nightly_scan run to complete",
                     lambda: _runs(api, by_name["nightly_scan"], "COMPLETED"), proc, 300)
        assert done[0]["auto_scheduled"]
        from dataward.ledger import Ledger
        from dataward.settings import load_settings
        with Ledger.for_settings(load_settings(cfg)) as ledger:
            scans = ledger.scan_rows(status="complete")
            records = ledger.audit_records(action_prefix="scan.complete")
        assert scans and records
        assert {r.subject for r in records} <= {s.scan_id for s in scans}
        # `dataward status` shows the run, from the ledger and from Prefect.
        st = subprocess.run([str(Path(sys.executable).with_name("dataward")), "--config",
                             str(cfg), "status", "--json", "--prefect-api", api],
                            env=env, capture_output=True, text=True, timeout=60)
        jobs = {j["flow"]: j for j in json.loads(st.stdout)["jobs"]}
        assert jobs["nightly_scan"]["last_run"] and not jobs["nightly_scan"]["overdue"]
        assert jobs["nightly_scan"]["prefect_state"] and jobs["nightly_scan"]["prefect_time"]

        # SIGTERM while serving (a flow run may be under way): everything it started stops.
        me = psutil.Process(proc.pid)
        started = me.children(recursive=True)
        assert len(started) >= 2   # at least the Prefect server and the serve child
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(90) == 0
        _, alive = psutil.wait_procs(started, timeout=10)
        assert not alive, [(p.pid, p.cmdline()) for p in alive]
    finally:
        _kill_tree(proc)
        log.seek(0)
        output = log.read()
        log.close()
    assert output.rstrip().endswith("stopped"), output
    assert "keeps failing" not in output
    with socket.socket() as s:  # nothing listens on the server's port any more
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_children_stop_when_serve_itself_is_killed(dw_home: Path, tmp_path: Path):
    """SIGKILL (the OOM killer, systemd's last resort) gives no chance to clean up: the
    children must notice by themselves that their supervisor is gone."""
    port = _free_port()
    env = {**os.environ, "DATAWARD_HOME": str(dw_home)}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("dataward")), "serve",
                             "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    started: list[psutil.Process] = []
    try:
        _wait("every deployment", lambda: len(_post(
            f"http://127.0.0.1:{port}/api", "/deployments/filter", {"limit": 50})) == len(FLOWS),
            proc, 300)
        started = psutil.Process(proc.pid).children(recursive=True)
        assert len(started) >= 2
        proc.kill()
        proc.wait()
        _, alive = psutil.wait_procs(started, timeout=60)
        assert not alive, [(p.pid, p.cmdline()) for p in alive]
    finally:
        # Only what this serve started: the test process's other children (the Prefect
        # test harness's server, shared by later flow tests) must live on.
        for p in started:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        _kill_tree(proc)
