"""The item worker's side: a process that reads one item at a time from its pipe, under a
memory limit, and dies with the process that forked it.

A worker is forked either from the scanning process or from the worker host
(``worker_host``); ``workers.ItemPool`` decides which and keeps the time limits. The
memory limit (RLIMIT_AS) is set in the worker right after the fork: the worker's address
space at that moment plus ``item_memory_mb``.
"""
from __future__ import annotations

import faulthandler
import logging
import os
import resource
import signal
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, TextIO

from ..connectors.filesystem import FileEntry
from .item_context import ItemContext, ItemOutcome
from .scan_item import base_row, process_entry

if TYPE_CHECKING:
    import ctypes

log = logging.getLogger("dataward.scan.workers")

MiB = 1024 * 1024
# A streamed item tells the scanning process it is making progress at most this often.
HEARTBEAT_S = 1.0


@dataclass(frozen=True)
class Task:
    entry: FileEntry
    source: str
    audience: str


def _address_space() -> int:
    """The calling process's virtual memory size in bytes (VmSize)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_show_warning = warnings.showwarning
# Said to the terminal as any process says them (when the filters let them through): a
# deprecation is a message to dataward's developers, not about a file.
DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def _log_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
    if issubclass(category, DEPRECATIONS):
        _show_warning(message, category, filename, lineno, file, line)
        return
    log.info("reader warning (%s, %s): %s", category.__name__, os.path.basename(filename),
             str(message).strip()[:160])


def die_with_parent(parent_pid: int, inherited: list[Connection]) -> None:
    """A worker must not outlive the scan (``kill -9`` of ``dataward scan`` once left
    workers running for minutes, holding the ledger and the log open):

    * the kernel sends SIGKILL when the forking process (the scanning process, or the
      worker host, which dies the same way with the scanning process) ends
      (PR_SET_PDEATHSIG), checked against the parent's pid in case it ended before the
      call;
    * descriptors inherited through fork that are not the worker's own (the scan's ends of
      this and earlier workers' pipes, or the host's control connection) are closed here,
      so a worker waiting for its next item, or a host waiting for its next request, sees
      end-of-file as soon as the scan is gone even where the signal is not available.
    """
    for c in inherited:
        c.close()
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(0)


def worker_main(conn: Connection, ctx: ItemContext, memory_mb: int, parent_pid: int = 0,
                inherited: list[Connection] | None = None) -> None:
    die_with_parent(parent_pid or os.getppid(), inherited or [])
    # Ctrl-C reaches the whole process group: the scanning process decides what happens.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A crash is reported as the item's status; no C stack dump on the scan's terminal.
    faulthandler.disable()
    # Parsers warn about damaged files (Pillow's "Corrupt EXIF data"): to the log, not raw
    # onto the terminal. Deprecations are not hidden there (see _log_warning).
    warnings.showwarning = _log_warning
    _arrow_on_system_malloc()
    limit = _address_space() + memory_mb * MiB
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or limit <= hard:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        seq, task = msg
        ctx.progress = _heartbeat(conn, seq)
        try:
            outcome = process_entry(task.entry, task.source, task.audience, ctx)
        except MemoryError:
            outcome = error_outcome(task, ctx, f"needs more than the {memory_mb} MB memory limit")
        except Exception as exc:  # noqa: BLE001 - never let one item end the worker
            outcome = error_outcome(task, ctx, f"internal error while reading ({type(exc).__name__})")
        try:
            conn.send((seq, outcome))
        except MemoryError:
            conn.send((seq, error_outcome(task, ctx, f"needs more than the {memory_mb} MB memory limit")))
        del outcome
        _release_memory()


def _arrow_on_system_malloc() -> None:
    """Arrow allocates through the C library's malloc in a worker, not its default pool
    (mimalloc), which carries over the state it had in the forking process: after a
    long-lived process had used Arrow, a worker's first small Arrow allocation under the
    worker's memory limit (RLIMIT_AS) failed and the reader aborted (SIGABRT)."""
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.set_memory_pool(pa.system_memory_pool())


def _release_memory() -> None:
    """Hand the heap an item's parsers used back to the system, so an idle worker does not
    keep the peak of the largest file it has read."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc() -> ctypes.CDLL | None:
    try:
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                               ctypes.c_ulong]
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _load_libc()
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def error_outcome(task: Task, ctx: ItemContext, reason: str) -> ItemOutcome:
    """The row of an item its worker could not finish (``status`` error, the reason)."""
    row = base_row(task.entry, task.source, task.audience, ctx.scan_id)
    row.set(status="error", error=reason)
    try:
        from ..classifiers.sniff import sniff
        row.format = sniff(task.entry.rel, b"")
    except Exception:  # noqa: BLE001 - the error row stands without a format
        pass
    return ItemOutcome(row, [])


def _heartbeat(conn: Connection, seq: int) -> Callable[[int], None]:
    """A progress callback that tells the scanning process, at most every HEARTBEAT_S."""
    last = [time.monotonic()]

    def beat(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= HEARTBEAT_S:
            last[0] = now
            conn.send(("progress", seq, done))
    return beat
