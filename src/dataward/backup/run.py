"""`backup run`: walk the sources, chunk, deduplicate, pack, upload, record a snapshot.

Order of writes, so that ``kill -9`` at any point leaves a valid repository:

1. packs are uploaded one by one; each is recorded as *pending* in the local cache
   as soon as its upload returns;
2. after the walk, one index object names every new pack (and every pending pack a
   killed run left behind);
3. then the snapshot object; only then is the local file cache replaced.

A run killed before step 3 leaves packs that no snapshot uses (prune removes them, or
the next run reuses them); it never leaves a snapshot pointing at missing data.

The run holds a shared repository lock (``locks``), refreshed in the background. Its
settle wait is not idle: the lock is written, the index loaded and the tree walked while
it settles, and it is confirmed (``RepoLock.confirm``) before the first pack is uploaded
or, in a run with nothing new, before the commit. A run that then finds a rival's lock
has written nothing; it starts over while ``lock_wait`` lasts. Right before the index and
the snapshot (both sealed beforehand) it checks strictly that the lock is still its own,
refreshing it, then that every pack the snapshot relies on is still in the store: a run
whose lock was taken over (a prune after a missed refresh) stops without writing either.
"""
from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import zstandard

from ..connectors.filesystem import walk_tree
from ..errors import LockedError, NotFoundError, PathOutsideRootsError
from .crypto import b64
from .format import BlobRef, IndexDoc, PackWriter, chunk_body, encode_index, encode_snapshot
from .locks import RepoLock
from .repository import Repository

Progress = Callable[[int, int], None]  # (bytes done, files done)


@dataclass(frozen=True)
class BackupResult:
    target: str
    snapshot_id: str
    files: int
    dirs: int
    files_unchanged: int
    bytes: int
    bytes_read: int
    bytes_new: int
    bytes_uploaded: int
    packs_uploaded: int
    packs_resumed: int
    errors: int
    seconds: float


def walk(roots: list[Path], excludes: list[str], on_error: Callable[[str], None]) \
        -> Iterator[tuple[str, os.stat_result]]:
    """(absolute path, lstat) of every entry under the roots, parents first, folders and
    symlinks included (a restore recreates them); links are never followed. ``excludes``
    have the scan's gitignore meaning (``connectors.filesystem.walk_tree``)."""
    for root in roots:
        root_s = os.path.abspath(root)
        try:
            st = os.lstat(root_s)
        except OSError:
            on_error(root_s)
            continue
        yield root_s, st
        if not stat.S_ISDIR(st.st_mode):
            continue
        for e in walk_tree(root_s, exclude=excludes, dirs=True):
            if e.st is None:
                on_error(e.path)
            else:
                yield e.path, e.st


class _Uploader:
    """Seals and uploads finished packs on background threads (two in flight at most)
    and records each as pending in the cache as soon as the store has it."""

    def __init__(self, repo: Repository, lock: RepoLock) -> None:
        self.repo, self.lock = repo, lock
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dw-upload")
        self.inflight: deque[Future[tuple[str, list[tuple[bytes, int, int, int]], int]]] = deque()
        self.done: dict[str, list[tuple[bytes, int, int, int]]] = {}
        self.bytes = 0

    def _upload(self, writer: PackWriter) -> tuple[str, list[tuple[bytes, int, int, int]], int]:
        name, fh, size = writer.finish()
        try:
            self.repo.put_file(name, fh, size)
        finally:
            fh.close()
        self.repo.cache.add_pending(name, writer.entries)  # at once: a kill now loses nothing
        return name, writer.entries, size

    def submit(self, writer: PackWriter) -> None:
        self.lock.confirm()  # nothing is written under a lock that has not settled
        self.inflight.append(self.pool.submit(self._upload, writer))
        while len(self.inflight) > 1:  # two packs in flight at most: memory stays flat
            self._reap()

    def _reap(self) -> None:
        name, entries, size = self.inflight.popleft().result()
        self.done[name] = entries
        self.bytes += size

    def drain(self) -> None:
        while self.inflight:
            self._reap()
        self.pool.shutdown()


def run_backup(repo: Repository, roots: list[Path], *, excludes: list[str] | None = None,
               zstd_level: int = 3, target_name: str = "", tags: list[str] | None = None,
               progress: Progress | None = None, lock_wait: float = 0.0) -> BackupResult:
    """Back up ``roots`` under a shared lock; ``lock_wait``: seconds to keep trying while
    a prune holds the repository."""
    deadline = time.monotonic() + lock_wait
    while True:
        lock = repo.lock("shared", wait=max(0.0, deadline - time.monotonic()), confirm=False)
        try:
            return _run_once(repo, lock, roots, excludes=excludes, zstd_level=zstd_level,
                             target_name=target_name, tags=tags, progress=progress)
        except LockedError:
            if not lock.raced or time.monotonic() >= deadline:
                raise
        repo.unlock()  # a rival's lock appeared while ours settled: nothing was written
        time.sleep(min(max(repo.lock_times.refresh / 10, 0.2), 5.0,
                       max(0.0, deadline - time.monotonic())))


def _run_once(repo: Repository, lock: RepoLock, roots: list[Path], *,
              excludes: list[str] | None, zstd_level: int, target_name: str,
              tags: list[str] | None, progress: Progress | None) -> BackupResult:
    from pyfastcdc import FastCDC

    t0 = time.monotonic()
    excludes = excludes or []
    keys = repo.keys
    p = repo.params
    cdc = FastCDC(p.chunk_avg, min_size=p.chunk_min, max_size=p.chunk_max,
                  seed=keys.chunker_seed)
    index = repo.load_index()  # read while the lock settles
    known: set[bytes] = set(index)
    # Packs a killed run uploaded: reuse those the store really has (listed only when
    # there are some: an unchanged run of a large repository lists packs once, below).
    pending = repo.cache.pending()
    present = {o.key for o in repo.store.list("packs/")} if pending else set()
    resumed = {n: e for n, e in pending.items() if n in present}
    repo.cache.clear_pending(set(pending) - set(resumed))
    for name, entries in resumed.items():
        for cid, off, length, raw in entries:
            if cid not in known:
                index[cid] = BlobRef(name, off, length, raw)
                known.add(cid)

    up = _Uploader(repo, lock)
    spool = repo.cache.path.parent
    scratch = bytearray()  # sealing buffer, kept across packs
    writer = PackWriter(keys, spool, scratch)
    errors: list[str] = []
    tree: list[dict[str, Any]] = []
    # (path, size, mtime_ns, ctime_ns, inode, chunk futures or ids): ids once the workers end.
    read_rows: list[tuple[str, int, int, int, int, list[Any]]] = []
    used: set[bytes] = set()
    n_files = n_dirs = unchanged = 0
    total = read = new = 0

    def add_new(cid: bytes, flag: int, body: bytes, raw_length: int) -> None:
        nonlocal writer, new
        writer.add(cid, flag, body, raw_length)
        new += raw_length
        if writer.size >= p.pack_size:
            up.submit(writer)
            writer = PackWriter(keys, spool, scratch)

    chunker = _Chunker(keys, zstd_level, known, add_new)
    reader = _Reader(cdc)
    try:
        for path, st in walk([Path(r) for r in roots], excludes, errors.append):
            lock.check()
            entry: dict[str, Any] = {"path": path, "mode": stat.S_IMODE(st.st_mode),
                                     "mtime_ns": st.st_mtime_ns}
            if stat.S_ISDIR(st.st_mode):
                entry["type"] = "dir"
                n_dirs += 1
            elif stat.S_ISLNK(st.st_mode):
                entry["type"] = "symlink"
                entry["target"] = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                chunks = repo.cache.file_chunks(path, st.st_size, st.st_mtime_ns,
                                                st.st_ctime_ns, st.st_ino)
                if chunks is not None and all(c in known for c in chunks):
                    unchanged += 1
                    size = st.st_size
                else:
                    try:
                        chunks, size = reader.read_file(path, chunker.submit)
                    except (OSError, PathOutsideRootsError):
                        errors.append(path)
                        continue
                    read += size
                entry.update(type="file", size=size, chunks=chunks)
                total += size
                n_files += 1
                read_rows.append((path, size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, chunks))
                if progress:
                    progress(total, n_files)
            else:
                continue  # sockets, fifos, devices: not backed up
            tree.append(entry)
        chunker.drain()
        if len(writer):
            up.submit(writer)
        else:
            writer.discard()
        up.drain()
    finally:
        chunker.pool.shutdown(wait=True)
        up.pool.shutdown(wait=True)
    # Chunk lists were futures while the workers ran; now they are ids.
    for entry in tree:
        if entry.get("type") == "file":
            ids = [_cid(c) for c in entry["chunks"]]
            used.update(ids)
            entry["chunks"] = [c.hex() for c in ids]
    file_rows = [(*r[:5], b"".join(_cid(c) for c in r[5])) for r in read_rows]

    # 2. index every pack not yet in an index object (this run's and resumed ones), once
    # the lock is known to be ours and every pack the snapshot needs is still stored.
    fresh = {**resumed, **up.done}
    for pack, entries in fresh.items():
        for cid, off, ln, raw in entries:
            index[cid] = BlobRef(pack, off, ln, raw)
    missing = [c for c in used if c not in index]
    if missing:  # a chunk lost from the store between the index load and now
        raise NotFoundError(f"{len(missing)} chunks vanished from the repository during the run; "
                            "run `dataward backup verify`, then run the backup again")
    # 3. then the snapshot. Both are sealed first, so the strict lock check (``ensure``:
    # our lock refreshed on the spot, no rival) and the pack check sit right before the
    # two writes: a prune cannot take a freshly refreshed lock over in between.
    summary = {"v": 1, "time": datetime.now(UTC).isoformat(), "host": socket.gethostname(),
               "paths": [os.path.abspath(r) for r in roots], "files": n_files, "dirs": n_dirs,
               "bytes": total, "bytes_new": new, "errors": len(errors), "tags": tags or [],
               "chunks": b64(b"".join(sorted(used)))}
    snap_name, snap_data = encode_snapshot(keys, summary, tree, zstd_level)
    lock.ensure()
    _check_packs(repo, {index[c].pack for c in used} | set(fresh))
    if fresh:
        doc = IndexDoc({pack: [(cid.hex(), off, ln, raw) for cid, off, ln, raw in entries]
                        for pack, entries in fresh.items()})
        name, data = encode_index(keys, doc)
        repo.put(name, data)
        repo.cache.put_index(name, data)
    lock.check()
    repo.put(snap_name, snap_data)
    repo.cache.clear_pending(fresh)
    if repo.lock_days:
        packs = sorted({index[c].pack for c in used})
        others = [o.key for o in repo.store.list("index/")] + ["config"] + \
            [o.key for o in repo.store.list("keys/")]
        repo.extend_locks(packs + others)
    repo.cache.replace_files(iter(file_rows), [os.path.abspath(r) for r in roots])
    repo.unlock()
    return BackupResult(
        target=target_name or repo.store.describe(), snapshot_id=snap_name.split("/")[1],
        files=n_files, dirs=n_dirs, files_unchanged=unchanged, bytes=total, bytes_read=read,
        bytes_new=new, bytes_uploaded=up.bytes + len(snap_data), packs_uploaded=len(up.done),
        packs_resumed=len(resumed), errors=len(errors), seconds=time.monotonic() - t0)


def _check_packs(repo: Repository, needed: set[str]) -> None:
    """Refuse to commit when a pack this run relies on is gone from the store (a prune
    that ran while this run's lock was stale): the next run uploads that data again."""
    present = {o.key for o in repo.store.list("packs/")}
    gone = needed - present
    if gone:
        repo.cache.clear_pending(gone)
        repo.cache.forget_files()
        raise LockedError(
            f"{len(gone)} packs this backup relies on were removed from the repository while "
            "it ran (a prune took over its lock after a missed refresh); no snapshot was written",
            hint="run the backup again: it uploads that data anew")


def _cid(c: bytes | Future[list[Any]]) -> bytes:
    return c if isinstance(c, bytes) else c.result()[0]


class _Chunker:
    """Chunk ids (HMAC) and compression on two worker threads (both release the GIL),
    while the caller reads and cuts the next chunks; new chunks are handed to
    ``on_new`` in file order, so packs are laid out as if written by one thread."""

    def __init__(self, keys: Any, level: int, known: set[bytes],
                 on_new: Callable[[bytes, int, bytes, int], None], depth: int = 3) -> None:
        self.keys, self.level, self.known, self.on_new = keys, level, known, on_new
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dw-chunk")
        self.local = threading.local()
        self.queue: deque[Future[list[Any]]] = deque()
        self.depth = depth

    def _work(self, data: bytes) -> list[Any]:
        """[chunk id, flag, body, raw length]; no body for a chunk the repository has."""
        cid = self.keys.chunk_id(data)
        if cid in self.known:
            return [cid, 0, None, len(data)]
        cctx = getattr(self.local, "cctx", None)
        if cctx is None:
            cctx = self.local.cctx = zstandard.ZstdCompressor(level=self.level)
        return [cid, *chunk_body(cctx, data), len(data)]

    def submit(self, data: memoryview) -> Future[list[Any]]:
        fut = self.pool.submit(self._work, bytes(data))
        self.queue.append(fut)
        while len(self.queue) > self.depth:
            self._take()
        return fut

    def _take(self) -> None:
        res = self.queue.popleft().result()
        cid = res[0]
        if cid not in self.known:
            self.known.add(cid)
            self.on_new(cid, res[1], res[2], res[3])
        res[2] = None  # the future lives on in a chunk list: drop the body

    def drain(self) -> None:
        while self.queue:
            self._take()


class _Reader:
    """Cuts files into chunks through one buffer kept for the whole run (twice the largest
    chunk, as pyfastcdc's own stream chunker sizes it). That chunker allocates and zeroes
    a fresh 8 MB buffer for every file; a share of many small files then churns the
    allocator, which holds on to the freed buffers: peak memory and CPU both grow. The
    cuts are the same as ``FastCDC.cut_stream``'s: a chunk is taken only when at least
    ``max_size`` bytes from its start are in the buffer, or the file has ended."""

    def __init__(self, cdc: Any) -> None:
        self.cdc = cdc
        self.max = cdc.max_size
        self.buf = bytearray(2 * self.max)
        self.view = memoryview(self.buf)

    def chunks(self, fh: Any, submit: Callable[[memoryview], Any]) -> tuple[list[Any], int]:
        view, cap, most = self.view, len(self.buf), self.max
        out: list[Any] = []
        size = filled = 0
        eof = False
        while True:
            while not eof and filled < cap:
                n = fh.readinto(view[filled:])
                if not n:
                    eof = True
                else:
                    filled += n
            start = 0
            for ch in self.cdc.cut_buf(view[:filled]):
                if not eof and filled - ch.offset < most:
                    break  # its cut may be the buffer's end, not the data's: read on first
                out.append(submit(ch.data))
                start = ch.offset + ch.length
                size += ch.length
            rest = filled - start
            if eof and not rest:
                return out, size
            view[:rest] = view[start:filled]  # the tail (< max) moves to the front: no overlap
            filled = rest

    def read_file(self, path: str, submit: Callable[[memoryview], Any]) -> tuple[list[Any], int]:
        """Chunk one file, opened without following a symlink swapped in after the walk."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NOATIME", 0))
        except PermissionError:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno == 40:  # ELOOP: the path became a symlink
                raise PathOutsideRootsError("a file became a symlink during the backup") from None
            raise
        with os.fdopen(fd, "rb", buffering=0) as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError("not a regular file")
            return self.chunks(fh, submit)
