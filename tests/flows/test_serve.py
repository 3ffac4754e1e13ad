"""`dataward serve` as a user runs it: a real local Prefect server under the state folder,
every flow deployed on the config's schedules (Europe/London), and Ctrl-C stopping both
child processes cleanly."""
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

from dataward.flows.serve import FLOWS as SERVED


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _deployments(api: str) -> list[dict]:
    req = urllib.request.Request(f"{api}/deployments/filter", method="POST",
                                 data=json.dumps({"limit": 50, "offset": 0}).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def test_serve_deploys_every_flow_on_its_schedule_and_stops_on_ctrl_c(dw_home: Path, tmp_path: Path):
    cfg = dw_home / "dataward.yaml"
    cfg.write_text("school: {name: Test School}\n"
                   "schedules:\n  nightly_scan: {cron: '30 2 * * *'}\n"
                   "  weekly_retention: {cron: '0 7 * * 2', timezone: Europe/London}\n")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "DATAWARD_HOME": str(dw_home)}
    env.pop("PREFECT_API_URL", None)
    dataward = str(Path(sys.executable).with_name("dataward"))
    proc = subprocess.Popen([dataward, "--config", str(cfg),
                             "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=tmp_path, preexec_fn=lambda: os.umask(0o022))  # noqa: PLW1509 - umask only, before exec
    try:
        deadline, deps = time.monotonic() + 120, []
        while time.monotonic() < deadline and len(deps) < len(SERVED):
            assert proc.poll() is None, proc.stdout.read()
            try:
                deps = _deployments(api)
            except OSError:
                pass
            time.sleep(1)
        schedules = {d["name"]: [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"])
                                 for s in d["schedules"]] for d in deps}
        assert schedules == {
            "nightly_scan": [("30 2 * * *", "Europe/London", True)],
            "nightly_backup": [("0 3 * * *", "Europe/London", True)],
            "weekly_verify": [("0 5 * * 0", "Europe/London", True)],
            "weekly_prune": [("0 7 * * 0", "Europe/London", True)],
            "weekly_retention": [("0 7 * * 2", "Europe/London", True)],
            "termly_restore_test": [("0 7 1 1,4,9 *", "Europe/London", True)],
            "weekly_accounts": [("0 6 * * 2", "Europe/London", True)],
        }
        assert all(d["parameters"] == {"config": str(cfg)} for d in deps)
        # Prefect's state lives under the state folder.
        assert (dw_home / "prefect" / "prefect.db").exists()
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, output
    assert output.rstrip().endswith("stopped")
    with socket.socket() as s:  # the server is gone: nothing listens on its port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    assert "telemetry" not in (dw_home / "prefect" / "server.log").read_text().lower()
    # Started under umask 022, the Prefect database and logs are still private (issue 16).
    opened = [f"{oct(p.stat().st_mode & 0o777)} {p.name}" for p in (dw_home / "prefect").rglob("*")
              if not p.is_symlink() and not p.is_socket() and p.stat().st_mode & 0o077]
    assert opened == []
