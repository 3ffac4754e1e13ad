"""Trust fixtures: one PostgreSQL server, one Prefect test server and one Dask cluster
(`dask scheduler` + two `dask worker` processes, as an operator starts them) for the
session, all on free loopback ports; demo schools made by the demo generator."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.procs import children, is_host

from ..foundation.test_ledger_postgres import running_postgres

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server():
    with running_postgres() as url:
        yield url


@pytest.fixture
def trust_db(pg_server: str) -> str:
    """A fresh database on the session's server: each test's trust ledger starts empty."""
    name = "t_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return pg_server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """Three demo schools made once (different seeds); tests copy them."""
    from dataward.demo import build_demo
    root = tmp_path_factory.mktemp("demo-schools")
    for i, seed in enumerate((3, 5, 8)):
        build_demo(root / f"school{i + 1}", pupils=30, seed=seed)
    return root


def write_trust(root: Path, db_url: str, schools: list[str], *, results: str | None = None,
                s3_endpoint: str | None = None, parts: int = 2) -> Path:
    lines = ["name: Test Trust", f"database_url: {db_url}", "state_dir: state",
             f"parts_per_share: {parts}", "item_workers: 1"]
    if results:
        lines.append(f"results: {results}")
    if s3_endpoint:
        lines.append(f"s3: {{endpoint_url: {s3_endpoint}}}")
    lines.append("schools:")
    lines += [f"  - {{id: {sid}, config: {sid}/dataward.yaml}}" for sid in schools]
    path = root / "trust.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def make_trust(tmp_path: Path, demo_template: Path, trust_db: str):
    """make_trust(n) -> path of a trust file over n demo schools on a fresh ledger."""
    def make(n: int = 3, **kw) -> Path:
        ids = [f"school{i + 1}" for i in range(n)]
        for sid in ids:
            shutil.copytree(demo_template / sid, tmp_path / sid, symlinks=True)
        return write_trust(tmp_path, trust_db, ids, **kw)
    return make


@pytest.fixture(scope="session")
def prefect_api(prefect_harness):
    """The session's Prefect server; its API URL is what the Dask workers talk to."""
    from prefect.settings import PREFECT_API_URL
    return PREFECT_API_URL.value()


def _state(pid: int) -> str:
    """A process's state letter (T: stopped), or "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _stopped(pid: int, timeout: float = 5.0) -> bool:
    """Whether ``pid`` has stopped after SIGSTOP (the kernel stops it when it next runs,
    at once or a moment later on a busy machine); False once it is gone or a zombie."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(pid)
        if state in ("T", "t"):
            return True
        if state in ("", "Z", "X"):
            return False
        time.sleep(0.01)
    return False


def thaw(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


class DaskCluster:
    """`dask scheduler` and `dask worker` processes, started the way an operator would:
    under a service manager that starts a worker again when its process ends (systemd's
    ``Restart=always``; a worker whose scheduler is gone closes itself and its nanny)."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.workers: list[tuple[subprocess.Popen, list[str], str]] = []
        self.scheduler = self._start_scheduler()
        self._stopping = threading.Event()
        self._manager = threading.Thread(target=self._restart_ended_workers, daemon=True)
        self._manager.start()

    def _restart_ended_workers(self) -> None:
        while not self._stopping.wait(0.5):
            for i, (proc, args, name) in enumerate(self.workers):
                if proc.poll() is not None and not self._stopping.is_set():
                    self.workers[i] = (self._start(args, name), args, name)

    def _start_scheduler(self) -> subprocess.Popen:
        return self._start(["scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                            "--dashboard-address", ":0", "--preload",
                            "dataward.flows.trust_worker"], "scheduler")

    def restart_scheduler(self) -> None:
        """Kill the scheduler (SIGKILL: a crash, nothing handed over) and start it again on
        its address, as the operator's service manager would. The workers' nannies start
        their workers again and those find the new scheduler on the same address."""
        os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait()
        self.scheduler = self._start_scheduler()

    def freeze_a_scanning_worker(self) -> tuple[int, list[int]] | None:
        """A worker caught in the middle of a part: its item readers (the processes a scan
        forks for its reading phase, and only then: a Dask worker runs threads, so they
        are forked by its worker host, kept between parts) are stopped with SIGSTOP, so
        the part cannot finish until they are continued. Returns (worker pid, reader
        pids), or None when no worker is reading right now."""
        try:
            pids = list(self.worker_pids().values())
        except OSError:
            return None
        for pid in pids:
            readers = []
            # Only a host's forks: any other process (a host between its fork and its
            # exec, a helper a library runs, as ctypes runs ldconfig during imports) is not
            # a part being read, and stopping it would stall another phase instead.
            for host in filter(is_host, children(pid)):
                readers += filter(is_host, children(host))
            stopped = []
            for child in readers:
                try:
                    os.kill(child, signal.SIGSTOP)
                    stopped.append(child)
                except ProcessLookupError:
                    continue
            if stopped and any(_stopped(c) for c in stopped):
                return pid, stopped
            thaw(stopped)        # the part ended as we looked: try again
        return None

    def _start(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - the process keeps it
        proc = subprocess.Popen([str(BIN / "dask"), *args], env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def add_worker(self, name: str) -> None:
        args = ["worker", self.address, "--nthreads", "1", "--host", "127.0.0.1",
                "--dashboard-address", ":0", "--name", name,
                "--preload", "dataward.flows.trust_worker"]
        self.workers.append((self._start(args, name), args, name))

    def client(self):
        from distributed import Client
        return Client(self.address, timeout=60)

    def wait_workers(self, n: int, timeout: float = 240) -> None:
        with self.client() as c:
            c.wait_for_workers(n, timeout=timeout)

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> pid of the worker process (the nanny's child)."""
        with self.client() as c:
            return c.run(os.getpid)

    def stop(self) -> None:
        self._stopping.set()
        self._manager.join()
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextmanager
def running_cluster(prefect_api: str, root: Path, workers: int = 2) -> Iterator[DaskCluster]:
    """A scheduler and ``workers`` workers on loopback, stopped when the block ends."""
    env = {**os.environ, "PREFECT_API_URL": prefect_api,
           # A scan reads items in child processes: Dask's workers must not be daemons.
           "DASK_DISTRIBUTED__WORKER__DAEMON": "False",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    root.mkdir(parents=True, exist_ok=True)
    cluster = DaskCluster(root, env)
    try:
        for i in range(workers):
            cluster.add_worker(f"w{i + 1}")
        cluster.wait_workers(workers)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def dask_cluster(prefect_api: str, tmp_path_factory):
    """The session's cluster (tests that restart its scheduler start their own)."""
    with running_cluster(prefect_api, tmp_path_factory.mktemp("dask")) as cluster:
        yield cluster


def wait_until(cond, timeout: float = 120, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")
