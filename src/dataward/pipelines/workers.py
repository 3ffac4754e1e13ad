"""Isolated, parallel reading of items: each item is read, extracted and classified in a
worker process with a wall-time limit and a memory limit.

Parsers written in Python (and some in C) can loop forever or swallow memory on a hostile
file. A worker that passes the time limit is killed; a worker whose address space passes
its limit gets a MemoryError (caught: the item is an ``error``) or dies. Either way that
item is recorded with status ``error`` and the reason, a fresh worker takes its place, and
the scan goes on.

Workers are forked from the scanning process, so each inherits the scan's ``ItemContext``
(settings and the Classifier built once for the scan) without rebuilding it, and starts
in milliseconds after a kill. The memory limit (RLIMIT_AS) is set in the worker right
after the fork: the worker's address space at that moment plus ``item_memory_mb``.
"""
from __future__ import annotations

import faulthandler
import gc
import logging
import multiprocessing as mp
import os
import resource
import signal
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from ..connectors.filesystem import FileEntry
from ..errors import DatawardError
from .scan_item import ItemContext, ItemOutcome, base_row, process_entry

if TYPE_CHECKING:
    import ctypes
    from multiprocessing.context import ForkContext

log = logging.getLogger("dataward.scan.workers")

MiB = 1024 * 1024
# A worker that cannot get going (fork, first message) within this many seconds is replaced.
STARTUP_TIMEOUT_S = 60.0
# This many workers in a row dying before their first item means something is wrong with
# the machine, not with a file: the scan stops with an error instead of looping.
MAX_STARTUP_FAILURES = 3


@dataclass(frozen=True)
class Task:
    entry: FileEntry
    source: str
    audience: str


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


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


def _die_with_parent(parent_pid: int, inherited: list[Connection]) -> None:
    """A worker must not outlive the scan (``kill -9`` of ``dataward scan`` once left
    workers running for minutes, holding the ledger and the log open):

    * the kernel sends SIGKILL when the forking process ends (PR_SET_PDEATHSIG), checked
      against the parent's pid in case it ended before the call;
    * the scan's ends of the pipes, inherited through fork (this worker's own and every
      earlier worker's), are closed here, so a worker waiting for its next item sees
      end-of-file as soon as the scan is gone even where the signal is not available.
    """
    for c in inherited:
        c.close()
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(0)


def _worker_main(conn: Connection, ctx: ItemContext, memory_mb: int, parent_pid: int = 0,
                 inherited: list[Connection] | None = None) -> None:
    _die_with_parent(parent_pid or os.getppid(), inherited or [])
    # Ctrl-C reaches the whole process group: the scanning process decides what happens.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A crash is reported as the item's status; no C stack dump on the scan's terminal.
    faulthandler.disable()
    # Parsers warn about damaged files (Pillow's "Corrupt EXIF data"): to the log, not raw
    # onto the terminal. Deprecations are not hidden there (see _log_warning).
    warnings.showwarning = _log_warning
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
            outcome = _error_outcome(task, ctx, f"needs more than the {memory_mb} MB memory limit")
        except Exception as exc:  # noqa: BLE001 - never let one item end the worker
            outcome = _error_outcome(task, ctx, f"internal error while reading ({type(exc).__name__})")
        try:
            conn.send((seq, outcome))
        except MemoryError:
            conn.send((seq, _error_outcome(task, ctx, f"needs more than the {memory_mb} MB memory limit")))
        del outcome
        _release_memory()


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


def _error_outcome(task: Task, ctx: ItemContext, reason: str) -> ItemOutcome:
    row = base_row(task.entry, task.source, task.audience, ctx.scan_id)
    row.set(status="error", error=reason)
    try:
        from ..classifiers.sniff import sniff
        row.format = sniff(task.entry.rel, b"")
    except Exception:  # noqa: BLE001 - the error row stands without a format
        pass
    return ItemOutcome(row, [])


# A big item (a mailbox export, a large spreadsheet) may take longer than a small one:
# the time limit grows by one second for each MIN_RATE_MB of the item.
MIN_RATE_MB = 0.5
# An item read as a stream (text, CSV) reports progress as it goes. Time depends on what
# it holds, not only its size (an export with a pupil on every row costs more per byte
# than prose), so while progress keeps coming the limit moves on: the item may run until
# ``item_timeout_s`` passes with no progress, up to a ceiling of DENSE_RATE_MB per second.
# A reader that hangs stops reporting and is stopped as before.
DENSE_RATE_MB = 0.05
HEARTBEAT_S = 1.0


def item_time_limit(task: Task, base_s: float) -> float:
    """Seconds one item may take without reporting progress: the configured limit plus
    time for its size."""
    return base_s + task.entry.size / (MIN_RATE_MB * 1e6)


def item_time_ceiling(task: Task, base_s: float) -> float:
    """Seconds one item may take at most, however steadily it reports progress."""
    return base_s + task.entry.size / (DENSE_RATE_MB * 1e6)


def _heartbeat(conn: Connection, seq: int) -> Callable[[int], None]:
    """A progress callback that tells the scanning process, at most every HEARTBEAT_S."""
    last = [time.monotonic()]

    def beat(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= HEARTBEAT_S:
            last[0] = now
            conn.send(("progress", seq, done))
    return beat


class _Slot:
    """One worker process and the item it is reading."""

    def __init__(self, mpctx: ForkContext, ctx: ItemContext, memory_mb: int,
                 others: list[_Slot] | None = None) -> None:
        self.conn, child = mpctx.Pipe(duplex=True)
        # The worker closes its copies of the scan's pipe ends (see _die_with_parent).
        inherited = [self.conn] + [s.conn for s in others or [] if not s.conn.closed]
        self.proc = mpctx.Process(target=_worker_main,
                                  args=(child, ctx, memory_mb, os.getpid(), inherited),
                                  name="dataward-item-worker", daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.deadline = time.monotonic() + STARTUP_TIMEOUT_S
        self.seq: int | None = None
        self.task: Task | None = None

    def send(self, seq: int, task: Task, timeout_s: float) -> None:
        self.seq, self.task = seq, task
        self.limit_s = item_time_limit(task, timeout_s)
        self.started = time.monotonic()
        self.deadline = self.started + self.limit_s
        self.ceiling = self.started + item_time_ceiling(task, timeout_s)
        self.stall_s = timeout_s
        self.progressed_at = 0.0
        self.conn.send((seq, task))

    def current(self) -> tuple[int, Task]:
        """The item this worker is reading (asked only while it reads one)."""
        if self.seq is None or self.task is None:
            raise RuntimeError("the worker is reading no item")
        return self.seq, self.task

    def progressed(self, seq: int) -> None:
        """The item reported progress: it may go on until it stalls, up to the ceiling."""
        if seq == self.seq and self.task is not None:
            self.progressed_at = time.monotonic()
            self.deadline = min(self.ceiling, max(self.deadline, self.progressed_at + self.stall_s))
            self.limit_s = self.deadline - self.started

    def stop(self, kill: bool) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.proc.kill()
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


class ItemPool:
    """Reads items in ``workers`` worker processes; use as a context manager.

    ``run(tasks)`` yields ``(index, ItemOutcome)`` in the order of ``tasks``."""

    def __init__(self, ctx: ItemContext, workers: int = 0, *, timeout_s: float | None = None,
                 memory_mb: int | None = None) -> None:
        scan = ctx.settings.scan
        self.ctx = ctx
        self.workers = workers or scan.workers or default_workers()
        self.timeout_s = timeout_s or scan.item_timeout_s
        self.memory_mb = memory_mb or scan.item_memory_mb
        self._mp = mp.get_context("fork")
        self._slots: list[_Slot] = []
        self.restarts = 0

    def __enter__(self) -> ItemPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(kill=exc_type is not None)

    def close(self, kill: bool = False) -> None:
        for slot in self._slots:
            slot.stop(kill=kill or slot.task is not None)
        self._slots = []

    def _spawn(self) -> _Slot:
        # Objects that exist now (the classifier, the roster) are left out of the garbage
        # collector's passes, so a worker does not copy their pages by merely scanning them.
        gc.freeze()
        slot = _Slot(self._mp, self.ctx, self.memory_mb, self._slots)
        self._slots.append(slot)
        return slot

    def _replace(self, slot: _Slot) -> None:
        self._slots.remove(slot)
        slot.stop(kill=True)
        self.restarts += 1

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[int, ItemOutcome]]:
        pending = list(tasks)
        if not pending:
            return
        queue = list(range(len(pending)))[::-1]   # pop() takes the next index
        results: dict[int, ItemOutcome] = {}
        next_out = 0
        startup_failures = 0
        while next_out < len(pending):
            while len(self._slots) < min(self.workers, len(queue) + self._busy()):
                self._spawn()
            for slot in self._slots:
                if slot.ready and slot.task is None and queue:
                    i = queue.pop()
                    slot.send(i, pending[i], self.timeout_s)
            now = time.monotonic()
            wait_for = min(60.0, max(0.0, min((s.deadline for s in self._slots), default=now) - now))
            ready = wait([s.conn for s in self._slots] + [s.proc.sentinel for s in self._slots],
                         timeout=wait_for)
            for slot in list(self._slots):
                if slot.conn in ready:
                    try:
                        msg = slot.conn.recv()
                    except (EOFError, OSError):
                        msg = None
                    if msg is not None and msg[0] == "progress":
                        slot.progressed(msg[1])
                        continue
                    if msg is not None:
                        if msg[0] == "ready":
                            slot.ready, startup_failures = True, 0
                        else:
                            seq, outcome = msg
                            results[seq] = outcome
                            slot.seq, slot.task = None, None
                        slot.deadline = float("inf")
                        continue
                if slot.proc.sentinel in ready or slot.conn in ready:
                    # The worker ended: crashed, or killed by the kernel's OOM killer.
                    if slot.task is None:
                        startup_failures += 1
                        if startup_failures >= MAX_STARTUP_FAILURES:
                            raise DatawardError("item workers keep dying before reading anything",
                                                hint="check free memory, or lower scan.workers")
                    else:
                        self._fail(results, slot, self._death_reason(slot))
                    self._replace(slot)
                elif time.monotonic() >= slot.deadline:
                    if slot.task is None:
                        startup_failures += 1
                        if startup_failures >= MAX_STARTUP_FAILURES:
                            raise DatawardError("item workers do not start",
                                                hint="check free memory, or lower scan.workers")
                    elif slot.progressed_at:
                        self._fail(
                            results, slot,
                            f"stopped after the {slot.limit_s:.0f} s time limit: no "
                            f"progress for {time.monotonic() - slot.progressed_at:.0f} s "
                            "(the reader hung)")
                    else:
                        self._fail(
                            results, slot,
                            f"stopped after the {slot.limit_s:.0f} s time limit "
                            "(the reader hung or the file is too slow to read)")
                    self._replace(slot)
            while next_out in results:
                yield next_out, results.pop(next_out)
                next_out += 1

    def _busy(self) -> int:
        return sum(1 for s in self._slots if s.task is not None)

    def _death_reason(self, slot: _Slot) -> str:
        slot.proc.join(1)
        code = slot.proc.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if -code == signal.SIGKILL:
                return (f"the reader was killed ({name}), most likely for memory; "
                        f"limit {self.memory_mb} MB")
            return f"the reader crashed ({name}); memory limit {self.memory_mb} MB"
        return f"the reader stopped unexpectedly (exit code {code})"

    def _fail(self, results: dict[int, ItemOutcome], slot: _Slot, reason: str) -> None:
        seq, task = slot.current()
        log.warning("item %d: %s", seq, reason)
        results[seq] = _error_outcome(task, self.ctx, reason)
