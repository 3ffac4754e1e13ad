"""`dataward serve`: a local Prefect server and the schedules of every dataward flow.

Two child processes, each in its own session so that Ctrl-C (or systemd's SIGTERM, or
SIGHUP when the terminal closes) reaches only this supervisor, which then stops them in
order, and then ends whatever else they started that is still running (a flow run in a
session of its own, scan workers). Each child also gets SIGTERM from the kernel if the
supervisor dies without stopping them (PR_SET_PDEATHSIG):

1. ``prefect server start`` bound to 127.0.0.1, with its SQLite database and home under the
   state folder (``<home>/prefect``) and telemetry off;
2. ``python -m dataward.flows.serve``: Prefect's ``serve()`` of one deployment per flow,
   each on the cron schedule and time zone of the config's ``schedules`` section.

The supervisor watches ``server.log`` and ``flows.log`` (the serve child's output, which
it also copies to its own) and prints one clear line when a part of Prefect keeps failing
(``logwatch``): the server's scheduler can fail on every loop while still "running".

Flows are imported defensively: a flow module that is missing or broken is reported and
left out, and the others are still served.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .logwatch import LogWatch

log = logging.getLogger("dataward.serve")

# (module, flow function, schedules key) for every flow dataward ships.
FLOWS = (
    ("dataward.flows.scan", "nightly_scan", "nightly_scan"),
    ("dataward.flows.backup", "nightly_backup", "nightly_backup"),
    ("dataward.flows.backup", "weekly_verify", "weekly_verify"),
    ("dataward.flows.backup", "weekly_prune", "weekly_prune"),
    ("dataward.flows.retention", "weekly_retention", "weekly_retention"),
    ("dataward.flows.backup", "termly_restore_test", "termly_restore_test"),
    ("dataward.flows.accounts", "weekly_accounts", "weekly_accounts"),
)
DEFAULT_PORT = 4200


@dataclass(frozen=True)
class Served:
    name: str          # the deployment's name (the flow function's name)
    flow: Any
    cron: str | None
    timezone: str
    every_seconds: int | None = None   # a test-only interval instead of the cron

    @property
    def when(self) -> str:
        return f"{self.cron} ({self.timezone})" if self.cron else f"every {self.every_seconds} s"


def available_flows(settings: Any) -> tuple[list[Served], list[str]]:
    """The flows present in this installation with their schedules, and what was skipped."""
    served, skipped = [], []
    for module, attr, key in FLOWS:
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            skipped.append(f"{attr} ({type(exc).__name__})")
            continue
        sched = getattr(settings.schedules, key)
        served.append(Served(attr, fn, sched.cron, sched.timezone, sched.every_seconds))
    return served, skipped


def build_deployments(settings: Any, config: str | None, *, task_runner: str = "thread",
                      dask_address: str | None = None) -> tuple[list[Any], list[str]]:
    """One RunnerDeployment per available flow, on its cron schedule in its time zone."""
    from datetime import timedelta

    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron, Interval
    served, skipped = available_flows(settings)
    deployments = []
    for s in served:
        params: dict[str, Any] = {"config": config}
        if s.name == "nightly_scan" and task_runner != "thread":
            params.update(task_runner=task_runner, dask_address=dask_address)
        schedule = (Cron(s.cron, timezone=s.timezone) if s.cron else
                    Interval(timedelta(seconds=s.every_seconds or 0), timezone=s.timezone))
        deployments.append(s.flow.to_deployment(
            name=s.name, schedules=[schedule], parameters=params,
            # Runs load the flow by module (dataward.flows.x:fn), not by file path, so the
            # installed package is used wherever the service starts.
            entrypoint_type=EntrypointType.MODULE_PATH, tags=["dataward"], description=(s.flow.description or "").strip().splitlines()[0]
            if s.flow.description else None))
    return deployments, skipped


def register_on_pool(settings: Any, config: str | None, pool: str, *,
                     task_runner: str = "thread", dask_address: str | None = None) -> list[str]:
    """For a trust: create (or update) every deployment on the work pool ``pool`` of the
    Prefect server at PREFECT_API_URL, for that pool's workers to run. The workers need
    dataward installed; flows are loaded by module path. Returns the deployment names."""
    deployments, _ = build_deployments(settings, config, task_runner=task_runner,
                                       dask_address=dask_address)
    for d in deployments:
        d.apply(work_pool_name=pool)
    return [d.name for d in deployments]


def prefect_env(settings: Any, host: str, port: int) -> dict[str, str]:
    """The environment both children run with: state under <home>/prefect, no telemetry,
    no result persisted unless a task asks (dataward's tasks never do)."""
    home = Path(settings.home) / "prefect"
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_API_HOST": host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_API_URL": f"http://{host}:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "PREFECT_UI_ENABLED": "true",
    }


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    from ..errors import TransientError
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TransientError(f"the Prefect server exited at start (code {proc.returncode})",
                                 hint="see <state folder>/prefect/server.log")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TransientError(f"the Prefect server did not answer within {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, wait: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _end_all(procs: list[Any], wait: float = 10.0) -> None:
    """Terminate, then kill, whichever of ``procs`` (psutil processes) still run: what left
    its process group (Prefect may start a flow run in a session of its own)."""
    import psutil
    alive = [p for p in procs if p.is_running()]
    for p in alive:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(alive, timeout=wait)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=wait)


def _die_with_parent() -> Any:
    """A preexec_fn: the child gets SIGTERM when the supervisor dies, even by SIGKILL (the
    OOM killer, systemd's last resort), so nothing it started is left running."""
    import ctypes
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return None
    return lambda: prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Supervisor:
    """Starts the server, then the flows; stops both (flows first) on Ctrl-C, SIGTERM or
    SIGHUP, and then anything else either of them started. Watches both logs."""

    def __init__(self, settings: Any, config: str | None, *, host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, task_runner: str = "thread",
                 dask_address: str | None = None) -> None:
        self.settings, self.config, self.host, self.port = settings, config, host, port
        self.task_runner, self.dask_address = task_runner, dask_address
        self.env = prefect_env(settings, host, port)
        self.server: subprocess.Popen[bytes] | None = None
        self.flows: subprocess.Popen[bytes] | None = None
        logdir = Path(self.env["PREFECT_HOME"])
        self.server_log, self.flows_log = logdir / "server.log", logdir / "flows.log"
        self.watches = [LogWatch(self.server_log), LogWatch(self.flows_log)]
        self._copier: threading.Thread | None = None

    @property
    def api_url(self) -> str:
        return self.env["PREFECT_API_URL"]

    def start(self) -> None:
        from ..errors import UsageError
        if not port_free(self.host, self.port):
            raise UsageError(f"port {self.port} on {self.host} is in use (another `dataward serve`?)",
                             hint="stop it, or pass --port")
        server_log = open(self.server_log, "ab")  # noqa: SIM115 - owned by the child
        self.server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", self.host,
             "--port", str(self.port)], env=self.env, stdout=server_log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_parent())  # noqa: PLW1509 - one prctl call; no thread yet
        server_log.close()
        wait_healthy(self.api_url, self.server)
        cmd = [sys.executable, "-m", "dataward.flows.serve", "--task-runner", self.task_runner,
               "--supervisor", str(os.getpid())]
        if self.config:
            cmd += ["--config", str(self.config)]
        if self.dask_address:
            cmd += ["--dask-address", self.dask_address]
        self.flows = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      start_new_session=True,
                                      preexec_fn=_die_with_parent())  # noqa: PLW1509 - as above
        self._copier = threading.Thread(target=_copy, args=(self.flows.stdout, self.flows_log),
                                        daemon=True)
        self._copier.start()

    def wait(self, alert: Any = print) -> int:
        """Until a child exits (its code) or the supervisor is interrupted. ``alert`` gets
        a line whenever a watched log shows a part of Prefect that keeps failing."""
        assert self.server is not None and self.flows is not None
        while True:
            for proc in (self.flows, self.server):
                code = proc.poll()
                if code is not None:
                    return code or 1
            for watch in self.watches:
                for line in watch.poll():
                    alert(line)
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop everything started, in order. Further Ctrl-C or SIGTERM while stopping are
        ignored, so an impatient second signal cannot leave the server running."""
        import psutil
        held = {s: signal.signal(s, signal.SIG_IGN) for s in STOP_SIGNALS}
        try:
            started = psutil.Process().children(recursive=True)
            _stop(self.flows, signal.SIGINT, 30)   # serve() pauses its schedules and exits
            _stop(self.server, signal.SIGTERM, 30)
            _end_all(started)
            if self._copier is not None:
                self._copier.join(5)
        finally:
            for s, handler in held.items():
                signal.signal(s, handler)


def _copy(stream: Any, path: Path) -> None:
    """The serve child's output: to this process's stdout (the terminal or the journal)
    and to ``path``, which the supervisor watches."""
    with open(path, "ab") as log:
        for line in iter(stream.readline, b""):
            log.write(line)
            log.flush()
            try:
                sys.stdout.buffer.write(line)
                sys.stdout.flush()
            except (OSError, ValueError):
                pass


def _watch_supervisor(supervisor: int, every: float = 1.0) -> threading.Thread:
    """The serve child ends itself, and what it started, once its supervisor is gone.

    PR_SET_PDEATHSIG sends SIGTERM, but a signal turned into KeyboardInterrupt can be
    swallowed inside Prefect's event loop; a thread that sees the child re-parented (the
    supervisor killed with SIGKILL) does not depend on that."""
    def watch() -> None:
        import psutil
        while os.getppid() == supervisor:  # re-parented once the supervisor is gone
            time.sleep(every)
        try:
            _end_all(psutil.Process().children(recursive=True), wait=5.0)
        finally:
            os._exit(0)
    thread = threading.Thread(target=watch, name="dataward-supervisor-watch", daemon=True)
    thread.start()
    return thread


def _flows_main(argv: list[str] | None = None) -> None:
    """The second child: serve every available flow (blocks until SIGINT/SIGTERM)."""
    parser = argparse.ArgumentParser(prog="python -m dataward.flows.serve")
    parser.add_argument("--config")
    parser.add_argument("--task-runner", default="thread", choices=("thread", "dask"))
    parser.add_argument("--dask-address")
    parser.add_argument("--supervisor", type=int, help="end when this process is gone")
    args = parser.parse_args(argv)
    from prefect import serve

    from ..home import private_umask
    from ..settings import load_settings
    private_umask()
    settings = load_settings(args.config)
    config = str(settings.config_path) if settings.config_path else args.config
    deployments, skipped = build_deployments(settings, config, task_runner=args.task_runner,
                                             dask_address=args.dask_address)
    for name in skipped:
        print(f"dataward serve: flow {name} not available; serving the others", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    import psutil
    if args.supervisor:
        _watch_supervisor(args.supervisor)
    try:
        serve(*deployments, print_starting_message=True)
    except KeyboardInterrupt:
        pass
    finally:
        # Flow runs Prefect started in sessions of their own, and their scan workers.
        _end_all(psutil.Process().children(recursive=True))


if __name__ == "__main__":
    _flows_main()
