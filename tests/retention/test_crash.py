"""A real process killed in the middle of apply or purge; the next run finishes the job
with nothing lost, nothing half-moved and every deletion recorded.

The child process kills itself with SIGKILL (no cleanup, no finally blocks, no flush)
at an exact point: just before or just after the Nth rename or unlink of a file.
"""
from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import School

CHILD = r"""
import os, signal, sys
op, when, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
real = getattr(os, op)
calls = 0
def dying(*args, **kwargs):
    global calls
    if "dir_fd" in kwargs or "src_dir_fd" in kwargs:  # a file of the school, not ours
        calls += 1
        if calls == nth and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        if calls == nth and when == "hang":  # hold the lock until the test kills us
            open(os.environ["HANG_MARKER"], "w").close()
            import time
            time.sleep(120)
        result = real(*args, **kwargs)
        if calls == nth and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return real(*args, **kwargs)
setattr(os, op, dying)
from dataward.cli.main import main
main(sys.argv[4:])
"""


def run_child(op: str, when: str, nth: int, *args: str) -> int:
    env = {**os.environ}
    proc = subprocess.run([sys.executable, "-c", CHILD, op, when, str(nth), *args], env=env,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def items(plan_id: str):
    from dataward.ledger import Ledger
    from dataward.retention import store
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger:
        return store.plan_items(ledger, plan_id), store.deletions(ledger)


def approved_plan(cli) -> str:
    r = cli("retention", "plan")
    plan_id = re.search(r"plan (rp-\S+)", r.stdout).group(1)
    assert cli("retention", "approve", plan_id, "--by", "Ann Smith").exit_code == 0
    return plan_id


@pytest.mark.parametrize("when,nth", [("before", 3), ("after", 3), ("after", 6)])
def test_apply_killed_mid_move_is_finished_by_the_next_run(cli, configured: School, when, nth):
    plan_id = approved_plan(cli)
    planned, _ = items(plan_id)
    originals = {it.item_no: sha(Path(it.path)) for it in planned}
    assert run_child("rename", when, nth, "retention", "apply", plan_id) == -signal.SIGKILL
    qdir = configured.root / ".dataward-quarantine" / plan_id
    moved_before = len(list(qdir.glob("*.jpg")))
    assert moved_before == (nth - 1 if when == "before" else nth)

    r = cli("retention", "apply", plan_id)
    assert r.exit_code == 0, r.output
    rows, _ = items(plan_id)
    assert {it.state for it in rows} == {"quarantined"}
    for it in rows:  # each file whole, in exactly one place
        assert not Path(it.path).exists()
        assert sha(qdir / it.qpath) == originals[it.item_no] == it.sha256
    assert len(list(qdir.glob("*.jpg"))) == len(rows)
    assert cli("audit", "verify").exit_code == 0


def test_purge_killed_between_overwrite_and_unlink_is_finished_and_recorded(
        cli, configured: School, monkeypatch):
    plan_id = approved_plan(cli)
    assert cli("retention", "apply", plan_id).exit_code == 0
    planned, _ = items(plan_id)
    monkeypatch.setenv("DATAWARD_RETENTION__GRACE_DAYS", "0")
    # the 2nd file has been overwritten with zeros but not yet unlinked
    assert run_child("unlink", "before", 2, "retention", "purge", "--yes") == -signal.SIGKILL
    rows, deleted = items(plan_id)
    assert not deleted  # the killed run wrote nothing to the ledger
    qdir = configured.root / ".dataward-quarantine" / plan_id
    second = qdir / rows[1].qpath
    assert second.exists() and set(second.read_bytes()) == {0}  # zeros, hash no longer matches

    r = cli("retention", "purge", "--yes")
    assert r.exit_code == 0, r.output
    rows, deleted = items(plan_id)
    assert {it.state for it in rows} == {"purged"}
    assert not list(qdir.glob("*.jpg"))
    assert sorted((d.item_no, d.sha256, d.size) for d in deleted) == \
        sorted((it.item_no, it.sha256, it.size) for it in planned)  # each recorded once
    assert any("interrupted run" in d.method for d in deleted)
    records = list((configured.root.parent / "dw-home" / "retention" / "deletion-records")
                   .glob("*.csv"))
    lines = sum(len(p.read_text().splitlines()) - 1 for p in records)
    assert lines == len(planned)


def test_a_second_run_is_locked_out_by_a_live_process_and_not_by_a_dead_one(
        cli, configured: School, tmp_path: Path, monkeypatch):
    plan_id = approved_plan(cli)
    marker = tmp_path / "hanging"
    monkeypatch.setenv("HANG_MARKER", str(marker))
    child = subprocess.Popen([sys.executable, "-c", CHILD, "rename", "hang", "2",
                              "retention", "apply", plan_id],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), "the first run never reached its second move"
        r = cli("retention", "apply", plan_id)
        assert r.exit_code == 11 and "holds the lock" in " ".join(r.output.split())
        assert cli("retention", "restore", plan_id).exit_code == 11
    finally:
        child.kill()
        child.wait()
    r = cli("retention", "apply", plan_id)  # the dead run's lock went with it
    assert r.exit_code == 0, r.output
    rows, _ = items(plan_id)
    assert {it.state for it in rows} == {"quarantined"}
