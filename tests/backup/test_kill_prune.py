"""`kill -9` of `backup prune --apply` at random points, 20 times: after each kill the
repository verifies and the next run completes; at the end every kept snapshot restores
byte for byte. The prune runs in a forked process (no interpreter start-up per trial), so
each trial is cheap and the kill can land anywhere in it."""
from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from dataward.backup import Policy, service

from .conftest import snapshot_tree_files

TRIALS = 20


def _change(src: Path, rng: random.Random) -> None:
    """New content in two of the four files: every backup brings new packs."""
    for i in rng.sample(range(4), 2):
        (src / f"file{i}.bin").write_bytes(rng.randbytes(150_000))


def _prune_in_child(settings, target: str) -> int:
    pid = os.fork()
    if pid == 0:  # the child: prune, then leave without running the parent's cleanup
        code = 1
        try:
            service.backup_prune(settings, target=target, apply=True, policy=Policy(keep_last=1))
            code = 0
        finally:
            os._exit(code)
    return pid


def test_kill_9_of_prune_at_random_points(settings, make_tree, tmp_path, gnupghome):
    rng = random.Random(1729)
    src = make_tree({f"file{i}.bin": rng.randbytes(150_000) for i in range(4)})
    target = str(tmp_path / "repo")
    service.backup_run(settings, target=target, sources=[src])
    # How long one prune takes here, so the kills spread over its whole length.
    _change(src, rng)
    service.backup_run(settings, target=target, sources=[src])
    t0 = time.monotonic()
    _, status = os.waitpid(_prune_in_child(settings, target), 0)
    length = time.monotonic() - t0
    assert os.waitstatus_to_exitcode(status) == 0
    killed = 0
    for _ in range(TRIALS):
        for _ in range(2):  # two more snapshots for the prune to remove
            _change(src, rng)
            service.backup_run(settings, target=target, sources=[src])
        pid = _prune_in_child(settings, target)
        t0, at = time.monotonic(), rng.uniform(0, length)
        while time.monotonic() - t0 < at and os.waitpid(pid, os.WNOHANG) == (0, 0):
            time.sleep(0.001)
        if time.monotonic() - t0 < at:  # it finished first: aim earlier next time
            length = time.monotonic() - t0
        else:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            killed += os.WIFSIGNALED(status)
        check = service.backup_verify(settings, target=target, read_data=100)[0]
        assert check.ok, check.problems
    assert killed >= TRIALS // 2  # most kills landed while the prune was still working
    # The next run completes; a prune that is not killed cleans up; all is whole.
    _change(src, rng)
    service.backup_run(settings, target=target, sources=[src])
    _, status = os.waitpid(_prune_in_child(settings, target), 0)
    assert os.waitstatus_to_exitcode(status) == 0
    final = service.backup_verify(settings, target=target, read_data=100, gnupghome=gnupghome)[0]
    assert final.ok and not final.warnings, (final.problems, final.warnings)
    snaps = service.backup_list(settings, target=target)[0][1]
    assert len(snaps) == 1
    out = tmp_path / "out"
    service.backup_restore(settings, "latest", out, target=target, gnupghome=gnupghome)
    assert snapshot_tree_files(out / src.relative_to("/")) == snapshot_tree_files(src)
