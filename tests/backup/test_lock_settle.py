"""The lock's settle wait is used, not idle: a run loads the index and walks the tree, a
restore opens the keys and plans, while their lock settles; neither writes anything nor
reads a pack before the lock is confirmed, and a rival's lock that appears meanwhile (a
prune started at the same moment) stops them before they do. Also: starting the command
line does not import the ledger's database layer, Alembic or Prefect."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from dataward.backup import service
from dataward.backup.locks import LockTimes
from dataward.backup.repository import Repository
from dataward.backup.restore import restore
from dataward.backup.run import run_backup
from dataward.connectors.objectstore import LocalStore
from dataward.errors import LockedError

from .conftest import snapshot_tree_files

SETTLE = 0.4


class WatchedStore(LocalStore):
    """A folder store that logs every request in order and, when asked, lets a rival
    process take an exclusive lock right after our own lock is first written (a prune
    started at the same moment), removing it again after ``rival_for`` seconds."""

    def __init__(self, root: Path, rival_for: float | None = None) -> None:
        super().__init__(root)
        self.log: list[tuple[str, str]] = []
        self.rival_for = rival_for
        self.rival_gone = threading.Event()

    def put(self, key: str, data: bytes, **kw: Any) -> None:
        self.log.append(("put", key))
        first_lock = key.startswith("locks/") and not any(
            op == "put" and k.startswith("locks/") for op, k in self.log[:-1])
        super().put(key, data, **kw)
        if first_lock and self.rival_for is not None:
            now = datetime.now(UTC).isoformat()
            super().put("locks/rival", json.dumps({
                "kind": "exclusive", "host": "other-server", "pid": 4242, "started": now,
                "time": now}).encode())
            timer = threading.Timer(self.rival_for, self._rival_done)
            timer.daemon = True
            timer.start()

    def _rival_done(self) -> None:
        super().delete("locks/rival")
        self.rival_gone.set()

    def put_file(self, key: str, fh: BinaryIO, size: int, **kw: Any) -> None:
        self.log.append(("put", key))
        super().put_file(key, fh, size, **kw)

    def get(self, key: str) -> bytes:
        self.log.append(("get", key))
        return super().get(key)

    def open_stream(self, key: str) -> BinaryIO:
        self.log.append(("get", key))
        return super().open_stream(key)

    def list(self, prefix: str = "") -> list[Any]:
        self.log.append(("list", prefix))
        return super().list(prefix)


def confirm_at(log: list[tuple[str, str]]) -> int:
    """Position of the confirming listing: the second listing of locks/."""
    at = [i for i, (op, k) in enumerate(log) if op == "list" and k == "locks/"]
    assert len(at) >= 2, log
    return at[1]


def writes(log: list[tuple[str, str]]) -> list[str]:
    return [k for op, k in log if op == "put" and not k.startswith("locks/")]


def open_watched(settings, store: WatchedStore, **kw: Any) -> Repository:
    return Repository.open(store, settings.keys_dir, settings.home / "backup",
                           lock_times=LockTimes(refresh=30, stale=120, settle=SETTLE), **kw)


@pytest.fixture
def repo_dir(settings, make_tree, tmp_path) -> tuple[Path, Path]:
    src = make_tree({"report.docx": os.urandom(300_000), "notes/a.txt": b"A\n" * 4000})
    target = tmp_path / "repo"
    service.backup_run(settings, target=str(target), sources=[src])
    return target, src


def test_an_unchanged_run_reads_and_walks_while_its_lock_settles(settings, repo_dir):
    target, src = repo_dir
    store = WatchedStore(target)
    with open_watched(settings, store) as repo:
        result = run_backup(repo, [src])
    assert result.files_unchanged == 2
    log = store.log
    at = confirm_at(log)
    assert ("list", "index/") in log[:at]          # the index was read meanwhile
    assert not writes(log[:at])                    # and nothing written before the confirmation
    assert [k.split("/")[0] for k in writes(log)] == ["snapshots"]


def test_a_run_writes_nothing_before_its_lock_is_confirmed_and_stops_for_a_rival(
        settings, repo_dir, make_tree):
    target, _ = repo_dir
    changed = make_tree({"new.bin": os.urandom(600_000)}, name="changed")
    before = {p.relative_to(target) for p in target.rglob("*") if "locks" not in p.parts}
    store = WatchedStore(target, rival_for=30)
    with open_watched(settings, store) as repo, pytest.raises(LockedError, match="in use"):
        run_backup(repo, [changed], lock_wait=0)
    after = {p.relative_to(target) for p in target.rglob("*") if "locks" not in p.parts}
    assert after == before  # no pack, index or snapshot from the run that lost the race
    assert [p.name for p in (target / "locks").iterdir()] == ["rival"]  # ours removed


def test_a_run_that_met_a_rival_while_settling_starts_over_once_it_is_gone(
        settings, repo_dir, make_tree, tmp_path):
    target, _ = repo_dir
    changed = make_tree({"new.bin": os.urandom(600_000), "b.txt": b"B\n" * 9000},
                        name="changed")
    store = WatchedStore(target, rival_for=1.0)
    with open_watched(settings, store) as repo:
        result = run_backup(repo, [changed], lock_wait=20)
    assert store.rival_gone.is_set()
    first_write = next(i for i, (op, k) in enumerate(store.log)
                       if op == "put" and not k.startswith("locks/"))
    # Every write came after a confirmation that saw no rival: the second attempt's.
    confirms = [i for i, (op, k) in enumerate(store.log) if op == "list" and k == "locks/"]
    assert len(confirms) >= 4 and first_write > confirms[3]
    assert result.packs_uploaded >= 1
    out = tmp_path / "out"
    service.backup_restore(settings, result.snapshot_id, out, target=str(target))
    assert snapshot_tree_files(out / changed.relative_to("/")) == snapshot_tree_files(changed)


def test_a_restore_opens_its_keys_and_plans_while_its_lock_settles(
        settings, repo_dir, gnupghome, tmp_path, monkeypatch):
    target, src = repo_dir
    store = WatchedStore(target)
    monkeypatch.setattr(service, "open_store", lambda url, **kw: store)
    res = service.backup_restore(settings, "latest", tmp_path / "out", target=str(target),
                                 gnupghome=gnupghome)
    assert res.files == 2 and not res.damaged
    log = store.log
    at = confirm_at(log)
    assert log[1][0] == "put" and log[1][1].startswith("locks/")  # the lock came first
    before = {k.split("/")[0] for op, k in log[:at] if op == "get"}
    assert {"keys", "snapshots"} <= before      # keys opened, tree read, plan made meanwhile
    assert "packs" not in before                # no pack data before the confirmation
    assert not writes(log)
    assert snapshot_tree_files(tmp_path / "out" / src.relative_to("/")) == \
        snapshot_tree_files(src)


def test_a_restore_stops_before_reading_a_pack_when_a_rival_took_a_lock_meanwhile(
        settings, repo_dir, gnupghome, tmp_path):
    target, _ = repo_dir
    store = WatchedStore(target, rival_for=30)
    with open_watched(settings, store, gnupghome=gnupghome, use_recovery_key=True) as repo:
        repo.lock("shared", confirm=False)
        with pytest.raises(LockedError, match="in use"):
            restore(repo, repo.find_snapshot("latest"), tmp_path / "out")
    assert not [k for op, k in store.log if op == "get" and k.startswith("packs/")]
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


def test_starting_the_command_line_imports_no_database_layer_alembic_or_prefect():
    """An unchanged backup run or a small restore is mostly start-up: the ledger's
    SQLAlchemy is imported only when a job records what it did, Prefect never."""
    code = ("import sys; import dataward.cli.main, dataward.backup.service, "
            "dataward.backup.run, dataward.backup.restore; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sqlalchemy', 'alembic', 'prefect', 'presidio_analyzer', 'spacy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
