"""`kill -9` during `backup run` leaves the repository valid; the next run completes and
reuses what the killed run uploaded."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from dataward.backup import service


def n_packs(target: Path) -> int:
    """Packs in the store (a killed write may leave a hidden temporary file: not a pack)."""
    return sum(1 for p in (target / "packs").iterdir() if not p.name.startswith("."))


def test_kill_9_mid_run_leaves_a_valid_repository_and_the_next_run_resumes(
        settings, dw_home, gpg_home, tmp_path):
    src = tmp_path / "share"
    src.mkdir()
    (src / "first.txt").write_bytes(b"before the crash\n" * 1000)
    target = tmp_path / "repo"
    # zstd level 19 makes the run slow enough to be killed part-way.
    cfg = {"backup": {"recovery_keys": [gpg_home["recovery"]], "gnupghome": gpg_home["home"],
                      "chunk_avg_kib": 64, "pack_size_mb": 0.25, "zstd_level": 19}}
    (dw_home / "dataward.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "DATAWARD_HOME": str(dw_home)}
    cmd = [sys.executable, "-c", "from dataward.cli.main import main; main()",
           "backup", "run", "--target", str(target), str(src)]
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    first_snaps = sorted(p.name for p in (target / "snapshots").iterdir())

    # Incompressible data is slow at level 19 (about 5 MB/s): about 30 packs to write.
    for i in range(8):
        (src / f"big{i}.dat").write_bytes(os.urandom(1_000_000 + i))
    packs_before = n_packs(target)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if n_packs(target) >= packs_before + 3:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    uploaded_by_killed_run = n_packs(target) - packs_before
    assert uploaded_by_killed_run >= 3

    # The repository is valid: no new snapshot, the old one verifies and restores.
    assert sorted(p.name for p in (target / "snapshots").iterdir()) == first_snaps
    res = service.backup_verify(settings, target=str(target), read_data=100,
                                gnupghome=Path(gpg_home["home"]))[0]
    assert res.ok, res.problems
    out = tmp_path / "restore-old"
    service.backup_restore(settings, first_snaps[0][:8], out, target=str(target))
    assert (out / src.relative_to("/") / "first.txt").read_bytes() == b"before the crash\n" * 1000

    # The next run (the dead process's stale lock is cleared) completes, reusing the
    # packs the killed run uploaded rather than uploading that data again.
    result = service.backup_run(settings, target=str(target), sources=[src])[0]
    # (a kill between an upload and its cache record can orphan at most the pack in flight)
    assert uploaded_by_killed_run - 1 <= result.packs_resumed <= uploaded_by_killed_run
    assert result.packs_resumed >= 2
    assert result.bytes_new <= result.bytes - result.packs_resumed * 200_000
    assert len(service.backup_list(settings, target=str(target))[0][1]) == 2
    res = service.backup_verify(settings, target=str(target), read_data=100,
                                gnupghome=Path(gpg_home["home"]))[0]
    assert res.ok, res.problems
    orphans = uploaded_by_killed_run - result.packs_resumed
    assert len(res.warnings) == (1 if orphans else 0)  # "N packs are in no index": prune's job
    assert not list((target / "locks").iterdir())
    out2 = tmp_path / "restore-new"
    service.backup_restore(settings, "latest", out2, target=str(target))
    for f in src.iterdir():
        assert (out2 / f.relative_to("/")).read_bytes() == f.read_bytes()
