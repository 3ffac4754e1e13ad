"""What a killed scan leaves behind, found and tidied by the next scan.

A scan writes into a hidden folder beside its final one
(``scans/.<scan_id>.partial-<scan_id>``) and holds an exclusive ``flock`` on that folder
for as long as it runs; the kernel drops the lock when the process ends, however it
ends. ``kill -9`` leaves the folder and the ledger row saying ``running``. The next scan
calls ``reap_interrupted``: a ``running`` row whose folder is not locked (or is gone) is
marked ``interrupted`` and audited, and its folder removed. A folder that is locked
belongs to a scan that is still running and is left alone.
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from pathlib import Path

from sqlalchemy import update

from ..ledger import Ledger, utcnow
from ..schema import scans_table

log = logging.getLogger("dataward.scan")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# A partial folder with no ledger row is only removed once it is this old: the row is
# written just after the folder is made and locked.
STRAY_AGE_S = 300


def work_dir_for(final_dir: Path, scan_id: str) -> Path:
    return final_dir.parent / f".{final_dir.name}.partial-{scan_id}"


def hold(work_dir: Path) -> int:
    """Lock a scan's partial folder for the life of this process; returns the descriptor
    (close it to let go)."""
    fd = os.open(work_dir, _DIR_FLAGS)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _abandoned(work_dir: Path) -> bool:
    """True when no running process holds the folder's lock (False if it is gone)."""
    try:
        fd = os.open(work_dir, _DIR_FLAGS)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def reap_interrupted(ledger: Ledger, scans_dir: Path) -> list[str]:
    """Mark scans that died without finishing ``interrupted`` and remove their partial
    folders. Returns the ids of the scans marked."""
    marked: list[str] = []
    known: set[str] = set()
    for row in ledger.scan_rows(status="running"):
        final = Path(row.out_dir)
        work = work_dir_for(final, row.scan_id)
        known.add(work.name)
        if work.exists():
            if not _abandoned(work):
                continue  # a scan that is still running
        elif not final.parent.is_dir():
            continue  # written on another machine (a shared PostgreSQL ledger): not ours to judge
        shutil.rmtree(work, ignore_errors=True)
        with ledger.begin() as conn:
            n = conn.execute(update(scans_table).where(scans_table.c.scan_id == row.scan_id,
                                                       scans_table.c.school_id == ledger.school_id,
                                                       scans_table.c.status == "running")
                             .values(status="interrupted", finished=utcnow())).rowcount
            if n:
                ledger.audit("scan.interrupted", row.scan_id, conn=conn,
                             reason="the scanning process ended without finishing (killed?); "
                                    "found by the next scan")
        if n:
            marked.append(row.scan_id)
    if scans_dir.is_dir():
        now = time.time()
        for p in scans_dir.glob(".*.partial-*"):
            if p.name in known or not p.is_dir() or p.is_symlink():
                continue
            try:
                old = now - p.stat().st_mtime > STRAY_AGE_S
            except OSError:
                continue
            if old and _abandoned(p):
                shutil.rmtree(p, ignore_errors=True)
    if marked:
        log.warning("%d scan(s) had been killed; marked interrupted", len(marked))
    return marked
