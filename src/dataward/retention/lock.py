"""One retention run at a time: an exclusive lock on a file in the state folder.

The lock is an ``flock`` on ``<home>/retention/retention.lock``; the kernel drops it
when the holding process ends, so a crashed run never leaves a stale lock behind.
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import LockedError


@contextmanager
def retention_lock(state_dir: Path) -> Iterator[None]:
    path = state_dir / "retention.lock"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="ignore").strip() or "unknown"
            raise LockedError(f"another retention run holds the lock (process {holder})",
                              hint="wait for it to finish, then run again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing drops the lock
