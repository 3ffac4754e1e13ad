"""Repository locks: restic's protocol (docs/backup.md, "Locks").

A lock is a small plaintext JSON object ``locks/<random>`` holding the kind (``shared``
for runs, verifies and restores; ``exclusive`` for prune), host, PID, the run's start
time and the time of its last refresh. It is written without any Object Lock retention,
so it can always be removed.

* **Take**: list ``locks/``; a conflicting lock that is not stale refuses (exit 11);
  stale ones are removed. Write our own lock, wait a moment, then list again: a
  conflicting lock that appeared meanwhile (two processes that started together) makes
  us remove ours and refuse. Both may refuse; neither goes on unprotected. The wait need
  not be idle (``begin``, then ``confirm``): a holder may read the repository meanwhile,
  as long as it confirms before it writes anything or reads a pack's data.
* **Refresh**: a background thread replaces the lock with a fresh one every
  ``refresh`` seconds (new object first, then the old one removed).
* **Stale**: a lock not refreshed for ``stale`` seconds, or one of a process of this
  host that no longer runs. Only stale locks are ever removed by others.
* **Stricter check before committing** (``ensure``): before a run writes its index and
  snapshot, or a prune deletes anything, the holder checks that its lock is still there
  and no conflicting lock appeared, refreshing it on the spot. A run whose refresh was
  missed (a server that slept, a network outage) and whose lock was taken over stops
  with exit 11 and writes nothing that could point at data a prune removed.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ..connectors.objectstore import ObjectStore
from ..errors import (
    DatawardError,
    LockedError,
    NotFoundError,
    RefusedError,
    TransientError,
)


@dataclass(frozen=True)
class LockTimes:
    """Seconds between refreshes, and without a refresh before a lock is stale."""

    refresh: float = 300.0
    stale: float = 1800.0
    settle: float = 0.2  # wait after writing our lock before looking for rivals


@dataclass(frozen=True)
class LockInfo:
    key: str
    kind: str
    host: str
    pid: int
    started: datetime
    refreshed: datetime

    @classmethod
    def parse(cls, key: str, raw: bytes) -> LockInfo:
        d = json.loads(raw)
        return cls(key, str(d["kind"]), str(d["host"]), int(d["pid"]),
                   datetime.fromisoformat(d["started"]), datetime.fromisoformat(d["time"]))

    def stale(self, times: LockTimes, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        if (now - self.refreshed).total_seconds() > times.stale:
            return True
        return self.host == socket.gethostname() and not pid_alive(self.pid)

    def conflicts(self, kind: str) -> bool:
        return kind == "exclusive" or self.kind == "exclusive"

    def describe(self) -> str:
        return (f"a {self.kind} lock of process {self.pid} on {self.host}, started "
                f"{self.started:%Y-%m-%d %H:%M:%S} UTC, refreshed {self.refreshed:%H:%M:%S} UTC")


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _uptime() -> float:
    """A clock that keeps counting while the machine sleeps (a suspended laptop server)."""
    return time.clock_gettime(getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC))


def list_locks(store: ObjectStore) -> list[LockInfo]:
    return _list_locks(store, "")[1]


def _list_locks(store: ObjectStore, own: str) -> tuple[bool, list[LockInfo]]:
    """(whether our own lock ``own`` is listed, every other lock): ours is not read back."""
    out = []
    listed = store.list("locks/")
    for o in listed:
        if o.key == own:
            continue
        try:
            out.append(LockInfo.parse(o.key, store.get(o.key)))
        except NotFoundError:
            continue  # removed while we listed
        except (ValueError, KeyError, TypeError):
            # An unreadable lock counts as a fresh exclusive one: never guess it away.
            now = datetime.now(UTC)
            out.append(LockInfo(o.key, "exclusive", "?", 0, now, now))
    return any(o.key == own for o in listed), out


def remove_locks(store: ObjectStore, times: LockTimes, *, force: bool = False) -> list[LockInfo]:
    """Remove stale locks (every lock with ``force``); returns what was removed."""
    removed = []
    for info in list_locks(store):
        if force or info.stale(times):
            try:
                store.delete(info.key)
            except NotFoundError:
                continue  # its owner removed it meanwhile
            removed.append(info)
    return removed


class RepoLock:
    """One held lock, refreshed on a background thread until ``release``."""

    def __init__(self, store: ObjectStore, kind: str, times: LockTimes) -> None:
        self.store, self.kind, self.times = store, kind, times
        self.started = datetime.now(UTC)
        self.key = ""
        self.lost = ""  # why the lock is no longer ours (empty while held)
        self.confirmed = False  # the check after the settle wait passed
        self.raced = False  # ... or failed: a rival's lock appeared while ours settled
        self._last = 0.0
        self._written = 0.0  # when our first lock object was written (monotonic)
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- taking --------------------------------------------------------------------
    def acquire(self, wait: float = 0.0) -> RepoLock:
        """Take the lock (``begin`` and ``confirm``); while a rival holds it, try again for
        up to ``wait`` seconds."""
        deadline = time.monotonic() + wait
        while True:
            try:
                self.begin()
                self.confirm()
                return self
            except LockedError:
                self.release()
                self.lost = ""
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(max(self.times.refresh / 10, 0.2), 5.0,
                               max(0.0, deadline - time.monotonic())))

    def begin(self, wait: float = 0.0) -> RepoLock:
        """The first half of taking the lock: refuse when a rival holds one (trying again
        for up to ``wait`` seconds), else write ours and start refreshing it. Until
        ``confirm`` the holder may only read the repository's metadata."""
        deadline = time.monotonic() + wait
        while True:
            try:
                self._check_rivals(remove_stale=True)
                break
            except LockedError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(max(self.times.refresh / 10, 0.2), 5.0,
                               max(0.0, deadline - time.monotonic())))
        self.confirmed = self.raced = False
        self._stop.clear()
        self._write()
        self._written = time.monotonic()
        self._thread = threading.Thread(target=self._refresher, name="dw-lock", daemon=True)
        self._thread.start()
        return self

    def confirm(self) -> None:
        """The second half: once ``settle`` has passed since our lock was written, list
        again; a conflicting lock that appeared meanwhile (two processes that started
        together) makes us remove ours and refuse (``raced``). Does nothing once passed."""
        if self.confirmed:
            return
        left = self.times.settle - (time.monotonic() - self._written)
        if left > 0:
            time.sleep(left)
        with self._mutex:
            if self.confirmed:
                return
            if self.lost or not self.key:
                raise LockedError(self.lost or "the repository lock is not held")
            try:
                self._check_rivals(remove_stale=False)
            except LockedError:
                self.raced = True
                self.lost = "another process took a lock on the repository at the same time"
                self._delete(self.key)
                self.key = ""
                raise
            self.confirmed = True

    def _doc(self) -> bytes:
        return json.dumps({"kind": self.kind, "host": socket.gethostname(), "pid": os.getpid(),
                           "started": self.started.isoformat(),
                           "time": datetime.now(UTC).isoformat()}).encode()

    def _write(self) -> None:
        key = f"locks/{os.urandom(16).hex()}"
        self.store.put(key, self._doc())  # never with a retention: locks must be removable
        self.key, self._last = key, _uptime()

    def _delete(self, key: str) -> None:
        try:
            self.store.delete(key)
        except (NotFoundError, TransientError, RefusedError):
            # Left behind (a network fault, or a bucket default retention that should not
            # be set): it goes stale and is ignored, and the next taker tries again.
            pass

    def _check_rivals(self, *, remove_stale: bool) -> None:
        present, others = _list_locks(self.store, self.key)
        if self.key and not present:
            self.lost = ("this run's repository lock was removed while it worked (its "
                         "refresh was late and another process took the lock over)")
            raise LockedError(self.lost, hint="nothing was saved; run it again")
        for info in others:
            if info.stale(self.times):
                if remove_stale:
                    self._delete(info.key)
                continue
            if not info.conflicts(self.kind):
                continue
            raise LockedError(
                f"the repository at {self.store.describe()} is in use: {info.describe()}",
                hint="wait for it to finish and try again; `dataward backup unlock` removes "
                     "locks of runs that died")

    # ---- keeping ---------------------------------------------------------------------
    def _refresher(self) -> None:
        while not self._stop.wait(self.times.refresh):
            try:
                self.refresh()
            except LockedError:
                return  # ``lost`` says why; the holder stops at its next check
            except (DatawardError, OSError):
                continue  # try again next time; ``check`` and ``ensure`` are strict about the gap

    def refresh(self) -> None:
        """Replace our lock with a fresh one; notes (and raises) when it was taken over."""
        with self._mutex:
            if self.lost or not self.key:
                raise LockedError(self.lost or "the repository lock is not held")
            old = self.key
            if not self.store.exists(old):
                self.lost = ("this run's repository lock was removed while it worked (its "
                             "refresh was late and another process took the lock over)")
                raise LockedError(self.lost, hint="nothing was saved; run it again")
            self._write()
            self._delete(old)

    def ensure(self) -> None:
        """The strict check before a commit: our lock still stands, freshly refreshed,
        and no conflicting lock exists. Raises LockedError otherwise."""
        self.confirm()
        self.refresh()
        with self._mutex:
            present, others = _list_locks(self.store, self.key)
            if not present:
                self.lost = "this run's repository lock was removed while it worked"
                raise LockedError(self.lost, hint="nothing was saved; run it again")
            for info in others:
                if info.conflicts(self.kind) and not info.stale(self.times):
                    self.lost = f"another process took the repository lock: {info.describe()}"
                    raise LockedError(self.lost, hint="nothing was saved; run it again")

    def check(self) -> None:
        """Cheap check for the run's loop: stop as soon as the lock was lost; when its
        refresh is overdue (the machine slept, the network was down), re-check it now
        before going on."""
        if self.lost:
            raise LockedError(self.lost, hint="nothing was saved; run it again")
        if _uptime() - self._last > self.times.refresh * 2:
            self.ensure()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._mutex:
            if self.key and not self.lost:
                self._delete(self.key)
            self.key = ""

