"""`remediate --move-to` a folder on another file system (the share on the disk, the
restricted folder on a tmpfs): copied, flushed, verified, placed, and only then removed
from the share; undone the same way; and a real process killed with SIGKILL before and
after every step of the copy leaves each file whole in exactly one place once `apply`
(or `undo`) is run again."""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipelines.conftest import line, make_roster

BY = "Ann Smith (DPO)"

CHILD = r"""
import os, signal, sys
when, nth = sys.argv[1], int(sys.argv[2])
calls = 0
def wrap(op):
    real = getattr(os, op)
    def dying(*args, **kwargs):
        global calls
        if op == "fsync" or "dir_fd" in kwargs or "src_dir_fd" in kwargs:
            calls += 1
            if calls == nth and when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = real(*args, **kwargs)
            if calls == nth and when == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return real(*args, **kwargs)
    setattr(os, op, dying)
for op in ("fsync", "link", "unlink", "rename"):
    wrap(op)
from dataward.cli.main import main
main(sys.argv[3:])
"""


@pytest.fixture
def other_fs(tmp_path: Path) -> Iterator[Path]:
    """A folder on a file system other than tmp_path's: /dev/shm (tmpfs) where it is one,
    else a tmpfs mounted for the test (CI runs as root)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and os.stat(shm).st_dev != os.stat(tmp_path).st_dev:
        d = Path(tempfile.mkdtemp(prefix="dataward-test-", dir=shm))
        yield d
        shutil.rmtree(d, ignore_errors=True)
        return
    d = tmp_path / "tmpfs"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(d)], check=True)
    try:
        yield d
    finally:
        subprocess.run(["umount", str(d)], check=True)


@pytest.fixture
def school(dw_home: Path, tmp_path: Path, other_fs: Path):
    from dataward.pipelines.report import write_report
    from dataward.pipelines.scan import run_scan
    from dataward.settings import load_settings
    share = tmp_path / "share"
    trip = share / "pupils" / "Trip"
    trip.mkdir(parents=True)
    (trip / "medical notes.txt").write_text(line() + "\nMedical: asthma, inhaler kept in the office.\n")
    (trip / "contacts.txt").write_text(line() + "\n" + "x" * 3_000_000 + "\n")
    os.chmod(trip / "contacts.txt", 0o640)
    os.utime(trip / "contacts.txt", ns=(1_700_000_000_000_000_000, 1_700_000_000_123_456_789))
    secure = other_fs / "admin"
    (secure / "Restricted").mkdir(parents=True)
    assert os.stat(secure).st_dev != os.stat(share).st_dev
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text(
        "sources:\n"
        f"  - {{name: pupils, path: {share / 'pupils'}, audience: pupils}}\n"
        f"  - {{name: admin, path: {secure}, audience: admin}}\n"
        f"rosters:\n  - {{path: {make_roster(tmp_path)}, kind: pupils}}\n", encoding="utf-8")
    settings = load_settings(cfg)
    run_scan(settings)
    rows = csv.DictReader(io.StringIO(write_report(settings, fmt="csv", out=tmp_path / "r.csv")
                                      .path.read_text("utf-8")))
    ids = {r["path"]: r["item"] for r in rows}
    items = [ids["pupils/Trip/medical notes.txt"], ids["pupils/Trip/contacts.txt"]]
    shas = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in trip.iterdir()}
    return settings, trip, secure / "Restricted", items, shas


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _plan(cli, settings, items, secure, note: str = "") -> str:
    cfg = ("--config", str(settings.config_path))
    r = cli(*cfg, "remediate", "plan", *items, "--move-to", secure,
            *(("--note", note) if note else ()))
    assert r.exit_code == 0, r.output
    plan = re.search(r"plan (rm-\S+):", r.stdout).group(1)
    assert cli(*cfg, "remediate", "approve", plan, "--by", BY).exit_code == 0
    return plan


def _only_at(here: Path, gone: Path, shas: dict[str, str]) -> None:
    """Each file whole at ``here``, none at ``gone``, no partial copy anywhere."""
    assert sorted(p.name for p in here.iterdir() if not p.name.startswith("MOVED-")) == sorted(shas)
    for name, sha in shas.items():
        assert _sha(here / name) == sha
    assert not [p for p in gone.iterdir() if not p.name.startswith("MOVED-")]


def test_a_move_to_another_file_system_is_copied_verified_then_removed(school, cli):
    settings, trip, secure, items, shas = school
    cfg = ("--config", str(settings.config_path))
    plan = _plan(cli, settings, items, secure, note="Ask the DPO (ext 214).")
    r = cli(*cfg, "remediate", "apply", plan)
    assert r.exit_code == 0 and "2 item(s) done" in r.stdout, r.output
    _only_at(secure, trip, shas)
    moved = os.stat(secure / "contacts.txt")
    assert moved.st_mode & 0o777 == 0o640 and moved.st_mtime_ns == 1_700_000_000_123_456_789
    assert sorted(p.name for p in trip.iterdir()) == sorted(f"MOVED-{i}.txt" for i in items)

    r = cli(*cfg, "remediate", "undo", plan)
    assert r.exit_code == 0 and "2 item(s) put back" in r.stdout, r.output
    _only_at(trip, secure, shas)
    assert not list(trip.glob("MOVED-*"))

    from dataward.ledger import Ledger
    with Ledger.for_settings(settings) as ledger:
        steps = [(a.subject, a.details["state"]) for a in ledger.audit_records(
            action_prefix="remediate.step")]
    assert steps[:3] == [(items[0], "copying"), (items[0], "placed"), (items[0], "done")]
    assert [s for _, s in steps[6:9]] == ["undo-copying", "undo-placed", "undone"]
    assert cli(*cfg, "audit", "verify").exit_code == 0


@pytest.mark.parametrize("command", ["apply", "undo"])
def test_killed_at_every_step_the_next_run_finishes(school, cli, command):
    settings, trip, secure, items, shas = school
    cfg = ("--config", str(settings.config_path))
    items = items[1:]          # the 3 MB file: one file keeps the number of runs down
    shas = {"contacts.txt": shas["contacts.txt"]}
    (trip / "medical notes.txt").unlink()
    kills, finished = 0, False
    for nth in range(1, 30):
        for when in ("before", "after"):
            plan = _plan(cli, settings, items, secure)
            if command == "undo":
                assert cli(*cfg, "remediate", "apply", plan).exit_code == 0
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, when, str(nth), *cfg, "remediate", command, plan],
                check=False, capture_output=True, text=True, timeout=120, env={**os.environ})
            there, away = (secure, trip) if command == "apply" else (trip, secure)
            if proc.returncode == 0:      # past the last step: nothing left to kill
                finished = True
                break
            assert proc.returncode == -signal.SIGKILL, proc.stderr
            kills += 1
            r = cli(*cfg, "remediate", command, plan)
            assert r.exit_code == 0 and "skipped" not in r.output, (nth, when, r.output)
            _only_at(there, away, shas)
            if command == "apply":    # put the files back for the next kill
                assert cli(*cfg, "remediate", "undo", plan).exit_code == 0
                _only_at(trip, secure, shas)
        if finished:
            break
    # The copy flushed, linked into place, its temporary name removed, the folder
    # flushed, the source removed, its folder flushed: six steps, killed before and after.
    assert finished and kills >= 12
    _only_at(there, away, shas)
    assert cli(*cfg, "audit", "verify").exit_code == 0
