"""Overlapping operations on one repository, with real processes: two runs at once, a run
while prune loops, locks that are refreshed or whose process died, a run whose lock was
taken over while it was stopped (a sleeping server), and `backup unlock`."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dataward.backup import service
from dataward.connectors.objectstore import LocalStore

from .conftest import s3_client, snapshot_tree_files

CLI = [sys.executable, "-c", "from dataward.cli.main import main; main()"]
NO_KEEP = ["--keep-daily", "0", "--keep-weekly", "0", "--keep-monthly", "0", "--keep-yearly", "0"]


def write_config(dw_home: Path, gpg_home: dict[str, str], **backup: object) -> None:
    cfg = {"backup": {"recovery_keys": [gpg_home["recovery"]], "gnupghome": gpg_home["home"],
                      "chunk_avg_kib": 64, "pack_size_mb": 0.25, **backup}}
    (dw_home / "dataward.yaml").write_text(yaml.safe_dump(cfg))


def settings_with(settings, **backup: object):
    from dataward.settings import load_settings
    return load_settings(backup={**settings.backup.model_dump(), **backup})


def prune_keep_last_1(settings, target: Path) -> int:
    """`backup prune --apply --keep-last 1` in this process: its exit code."""
    from dataward.backup import Policy
    from dataward.errors import LockedError
    try:
        service.backup_prune(settings, target=str(target), apply=True, policy=Policy(keep_last=1))
    except LockedError:
        return 11
    return 0


def env_for(dw_home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATAWARD_HOME": str(dw_home), **extra}


def start(args: list[object], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*CLI, *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def restore_and_compare(settings, target: str, src_by_snapshot: dict[str, Path], out: Path,
                        gnupghome: Path) -> None:
    """Every snapshot restores byte for byte (mode and mtime too) to the tree it saved."""
    for i, (snap, src) in enumerate(src_by_snapshot.items()):
        dest = out / f"r{i}"
        res = service.backup_restore(settings, snap, dest, target=target, gnupghome=gnupghome)
        assert not res.damaged
        assert snapshot_tree_files(dest / src.relative_to("/")) == snapshot_tree_files(src)


def snapshot_sources(settings, target: str) -> dict[str, Path]:
    return {s.id: Path(s.paths[0]) for s in service.backup_list(settings, target=target)[0][1]}


@pytest.fixture(params=["folder", "seaweedfs"])
def repo_target(request, tmp_path):
    """A target URL: a folder, or a prefix of a SeaweedFS bucket with Object Lock."""
    if request.param == "folder":
        return str(tmp_path / "repo"), {}
    endpoint = request.getfixturevalue("seaweed_s3")
    request.getfixturevalue("s3_env")
    bucket = f"runs-{os.urandom(4).hex()}"
    s3_client(endpoint).create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    return f"s3://{bucket}/school", {"AWS_ENDPOINT_URL": endpoint}


def test_two_runs_started_together_both_restore_byte_for_byte(
        settings, dw_home, gpg_home, repo_target, make_tree, tmp_path, monkeypatch):
    target, s3 = repo_target
    for k, v in s3.items():
        monkeypatch.setenv(k, v)
    extra = ["--object-lock-days", "1"] if target.startswith("s3://") else []
    write_config(dw_home, gpg_home)
    env = env_for(dw_home, **s3)
    first = make_tree({"seed.txt": b"seed\n"}, name="seed")
    r = subprocess.run([*CLI, "backup", "run", "--target", target, *extra, str(first)], env=env,
                       capture_output=True, check=False)
    assert r.returncode == 0, r.stderr
    shared = os.urandom(300_000)
    a = make_tree({"shared.bin": shared, "a.bin": os.urandom(400_000), "a.txt": b"A\n" * 5000},
                  name="share-a")
    b = make_tree({"shared.bin": shared, "b.bin": os.urandom(400_000), "b.txt": b"B\n" * 5000},
                  name="share-b")
    procs = [start(["backup", "run", "--target", target, *extra, src], env) for src in (a, b)]
    codes = [p.wait(timeout=120) for p in procs]
    for p, code in zip(procs, codes):
        assert code in (0, 11), p.stderr.read() if p.stderr else ""
    assert 0 in codes
    if 11 in codes:
        assert b"in use" in procs[codes.index(11)].stderr.read()
    snaps = snapshot_sources(settings, target)
    assert sorted(map(str, snaps.values())).count(str(a)) == (codes[0] == 0)
    assert sorted(map(str, snaps.values())).count(str(b)) == (codes[1] == 0)
    restore_and_compare(settings, target, snaps, tmp_path / "out", Path(gpg_home["home"]))
    res = service.backup_verify(settings, target=target, read_data=100,
                                gnupghome=Path(gpg_home["home"]))[0]
    assert res.ok, res.problems
    assert not LocalStore(Path(target)).list("locks/") if not target.startswith("s3") else True


def _slow_tree(make_tree, name: str, n: int = 8) -> Path:
    # zstd level 19 on incompressible data runs at a few MB/s: a run of several seconds.
    return make_tree({f"scan{i:02}.pdf": os.urandom(700_000) for i in range(n)}
                     | {"register.csv": b"UPN,mark\n" * 20_000}, name=name)


def test_run_while_prune_applies_in_a_loop_keeps_every_snapshot_whole(
        settings, dw_home, gpg_home, make_tree, tmp_path):
    target = tmp_path / "repo"
    write_config(dw_home, gpg_home, zstd_level=19, lock_wait_seconds=60)
    env = env_for(dw_home)
    old = make_tree({"register.csv": b"UPN,mark\n" * 20_000, "photo.jpg": os.urandom(600_000)},
                    name="old")
    tiny = make_tree({"note.txt": b"tiny\n"}, name="tiny")
    for src in (old, tiny):  # the newest snapshot needs none of the old one's packs
        subprocess.run([*CLI, "backup", "run", "--target", target, src], env=env, check=True,
                       capture_output=True)
    # The slow run reuses the old snapshot's packs, which a prune keeping only the newest
    # snapshot would delete if it could run in between.
    slow = _slow_tree(make_tree, "slow")
    (slow / "register.csv").write_bytes((old / "register.csv").read_bytes())
    (slow / "photo.jpg").write_bytes((old / "photo.jpg").read_bytes())
    run = start(["backup", "run", "--target", target, slow], env)
    deadline = time.monotonic() + 30
    while not list((target / "locks").glob("[!.]*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    codes = []
    while run.poll() is None or len(codes) < 3 or codes[-1] != 0:
        codes.append(prune_keep_last_1(settings, target))
        time.sleep(0.05)
        assert len(codes) < 2000
    assert run.wait() == 0, run.stderr.read() if run.stderr else ""
    assert 11 in codes and codes[-1] == 0  # refused while the run held its lock, then pruned
    snaps = snapshot_sources(settings, str(target))
    assert list(snaps.values()) == [slow]
    restore_and_compare(settings, str(target), snaps, tmp_path / "out", Path(gpg_home["home"]))
    r = subprocess.run([*CLI, "backup", "verify", "--read-data", "100", "--target", target,
                        "--gnupghome", gpg_home["home"]], env=env, capture_output=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


HOLDER = """
import socket, sys, time
from pathlib import Path
socket.gethostname = lambda: sys.argv[3]          # a process on another machine
from dataward.connectors.objectstore import LocalStore
from dataward.backup.locks import LockTimes, RepoLock
lock = RepoLock(LocalStore(Path(sys.argv[1])), sys.argv[2], LockTimes(refresh=0.3, stale=1.5))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def _hold(target: Path, kind: str, host: str) -> subprocess.Popen[bytes]:
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(target), kind, host],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stdout.readline() == b"held\n", p.stderr.read()
    return p


def test_a_refreshed_lock_is_respected_and_a_dead_processs_lock_is_taken_over(
        settings, dw_home, gpg_home, make_tree, tmp_path):
    from dataward.errors import LockedError
    target = tmp_path / "repo"
    s = settings_with(settings, lock_refresh_seconds=0.3, lock_stale_seconds=1.5,
                      lock_wait_seconds=0)
    src = make_tree({"a.txt": b"attendance\n" * 1000})
    service.backup_run(s, target=str(target), sources=[src])
    holder = _hold(target, "exclusive", "office-pc")
    try:
        time.sleep(2.5)  # started longer ago than the stale limit, but refreshed since
        with pytest.raises(LockedError, match="office-pc"):
            service.backup_run(s, target=str(target), sources=[src])
        assert service.backup_unlock(s, target=str(target))[0][1] == []
    finally:
        holder.kill()
        holder.wait()
    # Killed on another machine: nobody can tell it is dead until the stale limit passes.
    with pytest.raises(LockedError):
        service.backup_run(s, target=str(target), sources=[src])
    time.sleep(1.8)
    service.backup_run(s, target=str(target), sources=[src])
    assert not [p for p in (target / "locks").iterdir() if not p.name.startswith(".")]
    assert len(service.backup_list(s, target=str(target))[0][1]) == 2
    # The same through the command line: exit 11 while a fresh lock is held.
    holder = _hold(target, "exclusive", "office-pc")
    try:
        write_config(dw_home, gpg_home, lock_wait_seconds=0)
        r = subprocess.run([*CLI, "backup", "run", "--target", target, src],
                           env=env_for(dw_home), capture_output=True, check=False)
        assert r.returncode == 11 and b"office-pc" in r.stderr
    finally:
        holder.kill()
        holder.wait()


def test_unlock_removes_only_stale_locks_unless_forced(settings, dw_home, gpg_home, make_tree,
                                                      tmp_path):
    target = tmp_path / "repo"
    write_config(dw_home, gpg_home, lock_refresh_seconds=0.3, lock_stale_seconds=1.5)
    env = env_for(dw_home)
    src = make_tree({"a.txt": b"x\n"})
    subprocess.run([*CLI, "backup", "run", "--target", target, src], env=env, check=True,
                   capture_output=True)
    live = _hold(target, "shared", "office-pc")
    dead = _hold(target, "shared", "hall-pc")
    dead.kill()
    dead.wait()
    try:
        time.sleep(1.6)
        r = subprocess.run([*CLI, "backup", "unlock", "--target", target], env=env,
                           capture_output=True, check=False)
        assert r.returncode == 0 and b"hall-pc" in r.stdout and b"office-pc" not in r.stdout
        locks = [json.loads(p.read_bytes()) for p in (target / "locks").iterdir()
                 if not p.name.startswith(".")]
        assert {lk["host"] for lk in locks} == {"office-pc"}
        assert {"kind", "host", "pid", "started", "time"} <= set(locks[0])
        # Held still (SIGSTOP), the live holder cannot refresh, which writes a new lock file,
        # between the forced unlock and the look at what is left.
        live.send_signal(signal.SIGSTOP)
        r = subprocess.run([*CLI, "backup", "unlock", "--force", "--target", target], env=env,
                           capture_output=True, check=False)
        assert r.returncode == 0 and b"office-pc" in r.stdout
        # (A holder stopped inside a refresh may leave its half-written temporary file,
        # named with a dot: not a lock, and not listed as one.)
        assert not [p for p in (target / "locks").iterdir() if not p.name.startswith(".")]
    finally:
        live.kill()
        live.wait()


def test_a_run_whose_lock_was_taken_over_while_stopped_writes_no_snapshot(
        settings, dw_home, gpg_home, make_tree, tmp_path):
    """A server that slept mid-run: its lock went stale, a prune took over and removed
    packs the run relied on; on waking the run stops (exit 11) and writes no snapshot."""
    target = tmp_path / "repo"
    write_config(dw_home, gpg_home, zstd_level=19, lock_refresh_seconds=0.3,
                 lock_stale_seconds=1.5, lock_wait_seconds=0)
    env = env_for(dw_home)
    old = make_tree({"photo.jpg": os.urandom(600_000)}, name="old")
    tiny = make_tree({"note.txt": b"tiny\n"}, name="tiny")
    for src in (old, tiny):
        subprocess.run([*CLI, "backup", "run", "--target", target, src], env=env, check=True,
                       capture_output=True)
    slow = _slow_tree(make_tree, "slow", n=8)
    (slow / "photo.jpg").write_bytes((old / "photo.jpg").read_bytes())
    packs_before = {p.name for p in (target / "packs").iterdir()}
    run = start(["backup", "run", "--target", target, slow], env)
    deadline = time.monotonic() + 60
    while len({p.name for p in (target / "packs").iterdir()} - packs_before) < 1:
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(run.pid, signal.SIGSTOP)  # the server sleeps
    try:
        time.sleep(2.0)
        s = settings_with(settings, lock_refresh_seconds=0.3, lock_stale_seconds=1.5)
        assert prune_keep_last_1(s, target) == 0
    finally:
        os.kill(run.pid, signal.SIGCONT)  # ... and wakes up
    assert run.wait(timeout=120) == 11
    assert b"lock" in (run.stderr.read() if run.stderr else b"")
    snaps = snapshot_sources(settings, str(target))
    assert list(snaps.values()) == [tiny]
    assert service.backup_verify(settings, target=str(target), read_data=100)[0].ok
    service.backup_run(settings, target=str(target), sources=[slow])
    restore_and_compare(settings, str(target), snapshot_sources(settings, str(target)),
                        tmp_path / "out", Path(gpg_home["home"]))


def test_a_cache_held_by_a_stopped_run_does_not_stop_another(tmp_path):
    """A run stopped mid-write (a server gone to sleep) holds the local cache's write lock:
    another run still lists and prunes; what it could not cache is fetched again later."""
    import sqlite3

    from dataward.backup.cache import RepoCache
    cache = RepoCache(tmp_path / "cache")
    holder = sqlite3.connect(cache.path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # the stopped run's open write
    try:
        cache.db.execute("PRAGMA busy_timeout = 100")
        cache.put_summary("snapshots/a", "{}")
        cache.put_index("index/a", b"x")
        cache.drop_summaries(["snapshots/b"])
        cache.forget_files()  # what a prune does after deleting packs
        assert cache.summaries() == {} and cache.index_objects() == {}
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    cache.put_summary("snapshots/a", "{}")
    assert cache.summaries() == {"snapshots/a": "{}"}
    cache.close()
