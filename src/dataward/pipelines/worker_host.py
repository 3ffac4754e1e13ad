"""The process the scan's item workers are forked from when the scanning process runs
other threads (the worker host).

A ``fork()`` from a threaded process copies locks other threads held, and a child can
deadlock on one. Inside a Prefect flow or a Dask worker the scanning process runs other
Python threads (task runners, the API client, logging handlers), so ``workers.ItemPool``
does not fork there: it starts one host per pool, a fresh interpreter (``subprocess``:
multiprocessing's ``forkserver`` and ``spawn`` run the caller's ``__main__`` again). The
host runs one thread (``HOST_ENV`` turns numpy's and jemalloc's threads off), builds the
scan's ``ItemContext`` once (Presidio, recognizers, the roster), reads a made-up sample so
what the classifier builds on first use is built too, freezes it out of the garbage
collector's passes, and forks each worker from itself on request. Workers share the
classifier's pages with the host copy-on-write and start in milliseconds after a kill;
the scanning process builds no classifier for them.

Requests go over one control connection: ``("fork",)`` answers ``("forked", pid)`` and
passes two descriptors (the scanning process's end of the worker's duplex pipe, and a
sentinel that reads end-of-file when the worker ends); ``("reap", pid)`` waits for a
worker the scanning process saw end or killed, and answers its exit code (negative: the
signal). A worker is reaped only when asked, so its pid cannot be reused while the
scanning process may still signal it. ``None`` or end-of-file ends the host. The host
dies with the scanning process and each worker with the host (PR_SET_PDEATHSIG).

Modules named in ``PRELOAD`` are imported in the host before the context is built
(``module`` or ``module:function``, the function then called): readers registered by a
plug-in module are seen by the workers. The OCR time budget is shared by the host's
workers (shared memory made in the host).
"""
from __future__ import annotations

import gc
import importlib
import json
import logging
import multiprocessing as mp
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import warnings
from dataclasses import dataclass
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any, NoReturn, cast

from ..errors import DatawardError
from .item_context import ItemContext

# The host forks, so it runs one thread: numpy's OpenBLAS starts a pool of threads on
# import and pyarrow's bundled jemalloc a background purging thread, unless told not to
# (a worker reads one item at a time: the pool's workers are the parallelism).
HOST_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "JE_ARROW_MALLOC_CONF": "background_thread:false"}
# Extra modules each host imports (see the module docstring).
PRELOAD: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProcessSetup:
    """What a forked worker used to inherit from the scanning process and a fresh
    interpreter lacks: the log files of the ``dataward`` logger (a reader's warning is
    logged there, never printed), logger levels (noisy parsers kept quiet), and the
    warning filters (a test run that makes deprecations errors makes them errors in the
    workers too)."""
    log_files: tuple[tuple[str, str | None], ...]
    log_levels: tuple[tuple[str, int], ...]
    warning_filters: tuple[Any, ...]

    @classmethod
    def of_this_process(cls) -> ProcessSetup:
        ours = logging.getLogger("dataward")
        files = tuple((h.baseFilename, h.formatter._fmt if h.formatter else None)
                      for h in ours.handlers if isinstance(h, logging.FileHandler))
        names = ["dataward", *logging.root.manager.loggerDict]
        levels = tuple((n, logging.getLogger(n).level) for n in names
                       if logging.getLogger(n).level != logging.NOTSET)
        filters = []
        for entry in warnings.filters:
            try:
                pickle.dumps(entry)
            except Exception:  # noqa: BLE001 - a filter of a class defined in a test body
                continue
            filters.append(entry)
        return cls(files, levels, tuple(filters))

    def apply(self, added: list[logging.Handler]) -> None:
        """Apply in the host; ``added`` holds the handlers an earlier scan's setup added
        (a host kept between scans), removed first."""
        ours = logging.getLogger("dataward")
        for old in added:
            ours.removeHandler(old)
            old.close()
        added.clear()
        for path, fmt in self.log_files:
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(logging.Formatter(fmt))
            ours.addHandler(handler)
            added.append(handler)
        for name, level in self.log_levels:
            logging.getLogger(name).setLevel(level)
        # In place: the C half of the warnings module holds this same list.
        cast(list[Any], warnings.filters)[:] = list(self.warning_filters)
        warnings._filters_mutated()  # type: ignore[attr-defined]  # as warnings.filterwarnings does


def _import_preload(names: tuple[str, ...]) -> None:
    for name in names:
        module, _, func = name.partition(":")
        mod = importlib.import_module(module)
        if func:
            getattr(mod, func)()


# Made-up text with one of each kind the recognizers look for. Reading it once builds what
# the classifier builds on first use (compiled patterns, phone metadata, NLP pipes), so
# the workers share it instead of each building its own on its first item.
WARM_UP_TEXT = ("Pupil Sam Example, UPN A123456789012, NHS 943 476 5919, NI AB 12 34 56 C, "
                "tel 020 7946 0000, 1 High Street, AB1 2CD, born 01/02/2015, "
                "sam@example.invalid. Notes: SEN support plan, free school meals.")


def _warm_up(ctx: ItemContext) -> None:
    from ..classifiers.extractors import Extracted
    ctx.classifier.classify(Extracted(WARM_UP_TEXT))
    ctx.index_key  # noqa: B018 - the name index key, read once


def _use(msg: tuple[Any, ...], added: list[logging.Handler]) -> tuple[ItemContext, int]:
    """Build a scan's context in the host (``("context", ctx, memory_mb, preload, setup)``)."""
    _tag, ctx, memory_mb, preload, setup = msg
    gc.unfreeze()  # an earlier scan's classifier, if any, may be collected now
    gc.collect()
    setup.apply(added)
    _import_preload(preload)
    if ctx.counts_only:  # screening counts CSV columns with Arrow: loaded once, here
        from ..classifiers import column_counts  # noqa: F401
    _warm_up(ctx)
    # What exists now is left out of the collector's passes, so a worker does not copy its
    # pages by merely scanning them.
    gc.freeze()
    return ctx, memory_mb


def host_entry(fd: int) -> None:
    """The host's main: ``fd`` is its end of the control connection."""
    from ..classifiers import engine  # noqa: F401 - Presidio and spaCy, before any context
    from .item_worker import die_with_parent, worker_main
    die_with_parent(os.getppid(), [])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctrl = Connection(fd)
    host_pid = os.getpid()
    added: list[logging.Handler] = []
    ctx: ItemContext | None = None
    memory_mb = 0
    while True:
        try:
            msg = ctrl.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        if msg[0] == "context":
            try:
                ctx, memory_mb = _use(msg, added)
            except Exception as exc:  # noqa: BLE001 - told to the scanning process, which raises it
                # Only the kind of failure: a message could quote a roster entry.
                ctrl.send(("failed", exc if isinstance(exc, DatawardError) else DatawardError(
                    f"the item reader could not start ({type(exc).__name__})",
                    hint="run `dataward --debug scan` with the same config (no host there) "
                         "to see why")))
                return
            ctrl.send(("ready", host_pid))
        elif msg[0] == "fork" and ctx is not None:
            ours, theirs = mp.Pipe(duplex=True)
            sentinel_r, sentinel_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker
                ended = 1
                try:
                    os.close(sentinel_r)
                    ours.close()
                    worker_main(theirs, ctx, memory_mb, host_pid, [ctrl])
                    ended = 0
                finally:
                    os._exit(ended)
            os.close(sentinel_w)
            theirs.close()
            ctrl.send(("forked", pid))
            reduction.send_handle(ctrl, ours.fileno(), 0)
            reduction.send_handle(ctrl, sentinel_r, 0)
            ours.close()
            os.close(sentinel_r)
        elif msg[0] == "reap":
            try:
                _pid, status, usage = os.wait4(msg[1], 0)
                code: int | None = os.waitstatus_to_exitcode(status)
                cpu = usage.ru_utime + usage.ru_stime
            except ChildProcessError:
                code, cpu = None, 0.0
            ctrl.send(("reaped", msg[1], code, cpu))


class WorkerHost:
    """The scanning process's handle on its worker host. Starting one does not wait for
    it: the host imports the reading stack and builds the classifier while the scanning
    process goes on (plans, walks); the first ``fork`` waits until it is ready. ``use``
    gives it a scan's context; a host kept between scans (``keep_between_scans``) is given
    the next scan's."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        code = ("import sys, json; sys.path[:0] = json.loads(sys.argv[1]); "
                "from dataward.pipelines.worker_host import host_entry; "
                "host_entry(int(sys.argv[2]))")
        # fork+exec of a fresh interpreter (no Python code runs between the two), with this
        # process's import path, and only the control socket passed on.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, json.dumps([p or os.getcwd() for p in sys.path]),
             str(theirs.fileno())], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            env={**HOST_ENV, **os.environ})
        theirs.close()
        self.ctrl = Connection(ours.detach())
        self.pid: int | None = None
        self.ready = False

    def use(self, ctx: ItemContext, memory_mb: int) -> None:
        """Send a scan's context (only the classifier's factory travels; the host builds
        it) without waiting for the host to build it."""
        self._send(("context", ctx, memory_mb, tuple(PRELOAD), ProcessSetup.of_this_process()))
        self.ready = False

    def wait_ready(self) -> int | None:
        """The host's pid, once it has built the context (its error, raised here, if it
        could not)."""
        if not self.ready:
            msg = self._recv()
            if msg[0] == "failed":
                self.close()
                raise msg[1]
            self.pid, self.ready = int(msg[1]), True
        return self.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _send(self, msg: tuple[Any, ...]) -> None:
        try:
            self.ctrl.send(msg)
        except OSError:
            self._ended()

    def _ended(self) -> NoReturn:
        code = self.proc.poll()
        raise DatawardError(f"the item reader host ended unexpectedly (exit code {code})",
                            hint="check free memory, or lower scan.workers") from None

    def _recv(self) -> tuple[Any, ...]:
        while not self.ctrl.poll(1.0):
            if self.proc.poll() is not None:
                break
        try:
            msg: tuple[Any, ...] = self.ctrl.recv()
        except (EOFError, OSError):
            self._ended()
        return msg

    def fork(self) -> Worker:
        self.wait_ready()
        self._send(("fork",))
        _tag, pid = self._recv()
        conn = Connection(reduction.recv_handle(self.ctrl))
        sentinel = reduction.recv_handle(self.ctrl)
        return Worker(self, pid, conn, sentinel)

    def reap(self, pid: int) -> int | None:
        global _kept_readers_cpu
        self._send(("reap", pid))
        _tag, _pid, code, cpu = self._recv()
        if _keep:  # a kept host is never reaped here: its workers' CPU is counted apart
            with _kept_lock:
                _kept_readers_cpu += cpu
        return code  # type: ignore[no-any-return]

    def close(self) -> None:
        if not self.ready and self.proc.poll() is None:
            self.proc.kill()  # never used (nothing to read): not waited for to get ready
        if self.proc.poll() is None:
            try:
                self.ctrl.send(None)
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.ctrl.close()


class Worker:
    """One worker forked by the host: the Process-like part ItemPool uses."""

    def __init__(self, host: WorkerHost, pid: int, conn: Connection, sentinel: int) -> None:
        self.host, self.pid, self.conn, self.sentinel = host, pid, conn, sentinel
        self.exitcode: int | None = None

    def ended(self) -> bool:
        """True once the worker has ended (its sentinel reads end-of-file)."""
        from multiprocessing.connection import wait
        return self.exitcode is not None or bool(wait([self.sentinel], 0))

    def kill(self) -> None:
        if self.exitcode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:  # the host ended and its workers with it
                pass

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` seconds for the worker to end, then collect its exit code."""
        if self.exitcode is not None:
            return
        from multiprocessing.connection import wait
        if wait([self.sentinel], timeout):
            try:
                self.exitcode = self.host.reap(self.pid)
            except DatawardError:  # the host ended, and its workers with it
                self.exitcode = -signal.SIGKILL
            os.close(self.sentinel)

    def is_alive(self) -> bool:
        return self.exitcode is None


# Hosts kept between scans, ready for the next one (see keep_between_scans).
_kept: list[WorkerHost] = []
_kept_lock = threading.Lock()
_keep = False
_kept_readers_cpu = 0.0


def kept_readers_cpu() -> float:
    """CPU seconds of the item workers kept hosts have reaped: a kept host is not reaped
    by this process, so its workers' CPU is not in this process's children's times."""
    return _kept_readers_cpu


def keep_between_scans() -> None:
    """For a process that runs scan after scan (a trust's Dask worker, which scans a part
    of a share per task): its worker host is kept between scans and given the next scan's
    context, so each part does not start an interpreter and import the reading stack
    again; one is started now. A kept host ends with this process."""
    global _keep
    with _kept_lock:
        _keep = True
        if not _kept:
            _kept.append(WorkerHost())


def host_for(ctx: ItemContext, memory_mb: int) -> WorkerHost:
    """A worker host given this scan's context: a kept one if there is one, else new."""
    host = None
    with _kept_lock:
        while _kept and host is None:
            candidate = _kept.pop()
            if candidate.alive():
                host = candidate
            else:
                candidate.close()
    host = host or WorkerHost()
    host.use(ctx, memory_mb)
    return host


def release(host: WorkerHost) -> None:
    """A pool is done with its host (its workers ended and reaped): kept for the next scan
    when this process keeps hosts, else ended."""
    if _keep and host.alive():
        try:
            host.wait_ready()
        except DatawardError:
            return
        with _kept_lock:
            _kept.append(host)
        return
    host.close()


def end_kept() -> None:
    """End the kept hosts and keep none from now on."""
    global _keep
    with _kept_lock:
        _keep = False
        hosts, _kept[:] = list(_kept), []
    for host in hosts:
        host.close()
