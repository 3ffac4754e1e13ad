"""Isolated, parallel reading of items: each item is read, extracted and classified in a
worker process with a wall-time limit and a memory limit.

Parsers written in Python (and some in C) can loop forever or swallow memory on a hostile
file. A worker that passes the time limit is killed; a worker whose address space passes
its limit gets a MemoryError (caught: the item is an ``error``) or dies. Either way that
item is recorded with status ``error`` and the reason, a fresh worker takes its place, and
the scan goes on.

Where workers are forked from (the memory sharing and the fork hazard):

* When no thread but the scanning process's own runs Python code (``dataward scan``, the
  tests), workers are forked from the scanning process, as they always were: the
  Classifier is built there once before the first fork and frozen out of the garbage
  collector's passes, so every worker shares its pages and a replacement starts in
  milliseconds. Native threads of libraries that stop themselves around a fork
  (pyarrow's jemalloc purging thread and Arrow's thread pools, there from ``import
  pyarrow`` and the first Parquet read) do not count: they run no Python and take their
  own locks before a fork (pthread_atfork).
* When other Python threads run (a Prefect flow's task runner and API client, a Dask
  worker), a fork could copy a lock one of them holds and deadlock the child. Workers are
  then forked by a worker host (``worker_host``): a fresh single-threaded interpreter that
  builds the Classifier once and forks the workers from itself. The scanning process
  never builds the Classifier for them.

The worker's own side (memory limit, dying with its parent, heartbeats) is in
``item_worker``.
"""
from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from types import TracebackType
from typing import Protocol

from ..errors import DatawardError
from .item_context import ItemContext, ItemOutcome
from .item_worker import Task as Task  # re-exported: scan and classify take it from here
from .item_worker import error_outcome, worker_main
from . import worker_host
from .worker_host import WorkerHost

log = logging.getLogger("dataward.scan.workers")

# A worker that cannot get going (fork, first message) within this many seconds is replaced.
STARTUP_TIMEOUT_S = 60.0
# This many workers in a row dying before their first item means something is wrong with
# the machine, not with a file: the scan stops with an error instead of looping.
MAX_STARTUP_FAILURES = 3


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def python_threads() -> int:
    """How many threads of this process run Python code: the threads ``threading`` knows
    and any other thread with a Python frame (a C library's thread calling back into
    Python). Native threads that never run Python (Arrow's pools, jemalloc's purger) are
    not counted."""
    return max(threading.active_count(), len(sys._current_frames()))


# A big item (a mailbox export, a large spreadsheet) may take longer than a small one:
# the time limit grows by one second for each MIN_RATE_MB of the item.
MIN_RATE_MB = 0.5
# An item read as a stream (text, CSV) reports progress as it goes. Time depends on what
# it holds, not only its size (an export with a pupil on every row costs more per byte
# than prose), so while progress keeps coming the limit moves on: the item may run until
# ``item_timeout_s`` passes with no progress, up to a ceiling of DENSE_RATE_MB per second.
# A reader that hangs stops reporting and is stopped as before.
DENSE_RATE_MB = 0.05


def item_time_limit(task: Task, base_s: float) -> float:
    """Seconds one item may take without reporting progress: the configured limit plus
    time for its size."""
    return base_s + task.entry.size / (MIN_RATE_MB * 1e6)


def item_time_ceiling(task: Task, base_s: float) -> float:
    """Seconds one item may take at most, however steadily it reports progress."""
    return base_s + task.entry.size / (DENSE_RATE_MB * 1e6)


class WorkerProcess(Protocol):
    """What the pool needs of a worker process: a ``multiprocessing`` Process forked here,
    or a ``worker_host.Worker`` forked by the host."""
    @property
    def pid(self) -> int | None: ...
    @property
    def sentinel(self) -> int: ...
    @property
    def exitcode(self) -> int | None: ...
    def kill(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def is_alive(self) -> bool: ...


class _Slot:
    """One worker process and the item it is reading."""

    def __init__(self, proc: WorkerProcess, conn: Connection) -> None:
        self.proc, self.conn = proc, conn
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
        self._host: WorkerHost | None = None
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
        if self._host is not None:
            worker_host.release(self._host)
            self._host = None

    def start_host(self) -> None:
        """Start the worker host now if workers will come from one (other threads run
        here), so its start overlaps what the scan does before it reads items."""
        if self._host is None and python_threads() > 1:
            self._new_host()

    def _new_host(self) -> WorkerHost:
        log.info("item workers come from a worker host: %d other Python thread(s) run in "
                 "the scanning process", python_threads() - 1)
        self._host = worker_host.host_for(self.ctx, self.memory_mb)
        return self._host

    def _spawn(self) -> _Slot:
        # Decided at each fork: a thread started since the last one sends this and later
        # workers to the host. Once there is a host, every new worker comes from it.
        if self._host is None and python_threads() == 1:
            slot = self._fork_here()
        else:
            worker = (self._host or self._new_host()).fork()
            slot = _Slot(worker, worker.conn)
        self._slots.append(slot)
        return slot

    def _fork_here(self) -> _Slot:
        """A worker forked from this (single-threaded) process."""
        self.ctx.classifier  # noqa: B018 - built once here, so forked workers share it
        # Objects that exist now (the classifier, the roster) are left out of the garbage
        # collector's passes, so a worker does not copy their pages by merely scanning them.
        gc.freeze()
        conn, child = self._mp.Pipe(duplex=True)
        # The worker closes its copies of the scan's pipe ends (item_worker.die_with_parent).
        inherited = [conn] + [s.conn for s in self._slots if not s.conn.closed]
        proc = self._mp.Process(target=worker_main,
                                args=(child, self.ctx, self.memory_mb, os.getpid(), inherited),
                                name="dataward-item-worker", daemon=True)
        proc.start()
        child.close()
        return _Slot(proc, conn)

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
        results[seq] = error_outcome(task, self.ctx, reason)
