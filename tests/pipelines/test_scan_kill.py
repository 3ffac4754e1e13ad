"""`kill -9` of `dataward scan` (issue 16): its workers die with it, and the next scan
marks the killed one `interrupted` and removes its hidden partial folder. A scanning
process that runs other threads (issue 13) has its workers forked by a worker host: the
host and its workers die with it too."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dataward.ledger import Ledger
from dataward.settings import load_settings

from tests.procs import children, descendants, is_host

LINE = ("Pupil Amelia Khan, UPN U820200014013, NHS 943 476 5919, tel 020 7946 0123, "
        "amelia.khan@example.co.uk, born 04/05/2015.\n")


def _is_host(pid: int, scan_pid: int) -> bool:
    """The worker host: a child of the scanning process running the host's entry point
    (its workers, forked from it, show the same command line one level further down)."""
    return pid in children(scan_pid) and is_host(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"   # a zombie has ended; only its exit status is left


@pytest.fixture
def slow_tree(tmp_path: Path) -> Path:
    """Enough text to keep two workers busy for many seconds."""
    share = tmp_path / "share"
    share.mkdir()
    body = LINE * 3000          # about 400 KB of identifiers in each file
    for i in range(120):
        (share / f"record-{i:03d}.txt").write_text(body)
    return share


# A scanning process with a live extra thread, as under a Prefect flow.
THREADED = ("import threading; threading.Thread(target=threading.Event().wait, daemon=True)"
            ".start(); ")


def _start_scan(share: Path, home: Path, threaded: bool = False) -> subprocess.Popen:
    env = {**os.environ, "DATAWARD_HOME": str(home)}
    code = (THREADED if threaded else "") + "from dataward.cli.main import main; main()"
    cmd = [sys.executable, "-c", code, "scan", "--workers", "2", "--full", str(share)]
    # Its own session: the kill reaches the scanning process only, as `kill -9 PID` does.
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _wait_for_workers(proc: subprocess.Popen, n: int = 2) -> set[int]:
    """The scan's processes once ``n`` workers run (and the worker host, if any)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        kids = {k for k in descendants(proc.pid) if _alive(k)}
        workers = {k for k in kids if not _is_host(k, proc.pid)}
        if len(workers) >= n:
            time.sleep(1.0)          # let them take their first items
            return {k for k in descendants(proc.pid) if _alive(k)}
        time.sleep(0.05)
    raise AssertionError("the scan never started its workers")


@pytest.mark.parametrize("threaded", [False, True], ids=["forked-by-scan", "worker-host"])
def test_kill_9_of_the_scan_takes_its_workers_with_it_every_time(dw_home, slow_tree, threaded):
    for trial in range(4):
        proc = _start_scan(slow_tree, dw_home, threaded)
        try:
            workers = _wait_for_workers(proc)
            # With a host: the host and its two workers; else the two workers.
            assert len(workers) == (3 if threaded else 2), workers
        finally:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.05)
        survivors = [w for w in workers if _alive(w)]
        for w in survivors:  # leave nothing running for the next trial or test
            os.kill(w, signal.SIGKILL)
        assert not survivors, f"trial {trial}: {len(survivors)} worker(s) outlived the scan"


def _kill(pids: set[int]) -> None:
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_next_scan_marks_a_killed_scan_interrupted_and_removes_its_partial_folder(
        dw_home, slow_tree, tmp_path):
    proc = _start_scan(slow_tree, dw_home)
    workers: set[int] = set()
    try:
        workers = _wait_for_workers(proc)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)
    _kill(workers)
    scans = dw_home / "scans"
    partial = [p for p in scans.iterdir() if ".partial-" in p.name]
    assert len(partial) == 1 and partial[0].name.startswith(".")
    settings = load_settings()
    with Ledger.for_settings(settings) as ledger:
        (killed,) = ledger.scan_rows(status="running")

    small = tmp_path / "small"
    small.mkdir()
    (small / "note.txt").write_text(LINE)
    env = {**os.environ, "DATAWARD_HOME": str(dw_home)}
    done = subprocess.run([sys.executable, "-c", "from dataward.cli.main import main; main()",
                           "scan", str(small)], env=env, capture_output=True, text=True,
                           check=False)
    assert done.returncode == 0, done.stdout + done.stderr

    assert not [p for p in scans.iterdir() if ".partial-" in p.name]
    with Ledger.for_settings(settings) as ledger:
        rows = {r.scan_id: r for r in ledger.scan_rows()}
        assert rows[killed.scan_id].status == "interrupted"
        assert rows[killed.scan_id].finished
        assert not ledger.scan_rows(status="running")
        audit = [r for r in ledger.audit_records(action_prefix="scan.interrupted")]
        assert [r.subject for r in audit] == [killed.scan_id]
        assert ledger.verify_audit().ok


def test_a_running_scan_is_not_taken_for_a_killed_one(dw_home, slow_tree, tmp_path):
    proc = _start_scan(slow_tree, dw_home)
    workers: set[int] = set()
    try:
        workers = _wait_for_workers(proc)
        small = tmp_path / "small"
        small.mkdir()
        (small / "note.txt").write_text(LINE)
        env = {**os.environ, "DATAWARD_HOME": str(dw_home)}
        done = subprocess.run([sys.executable, "-c", "from dataward.cli.main import main; main()",
                               "scan", str(small)], env=env, capture_output=True, text=True,
                           check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert proc.poll() is None
        settings = load_settings()
        with Ledger.for_settings(settings) as ledger:
            assert len(ledger.scan_rows(status="running")) == 1
        assert [p for p in (dw_home / "scans").iterdir() if ".partial-" in p.name]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(1.0)
        _kill(workers)
