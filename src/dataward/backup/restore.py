"""`backup restore`: rebuild files from a snapshot, byte for byte, with mode and mtime.

The restore is planned by pack, as restic's restorer does: every file's place is checked
first (nothing is written when one is refused), then each pack that holds a needed chunk
is streamed exactly once, on a few threads at a time, and each of its chunks is written
(``pwrite``) at every offset of every file that needs it as it goes by. A file is created
(sparse, at its full size, under a temporary name) by the first thread that writes to
it, so creating thousands of files overlaps the downloads instead of preceding them. A pack's
chunks count as written only when the whole pack passed its name hash and MAC; a file is
renamed into place when its last chunk counts. Memory stays at about one chunk per
download thread whatever the tree, and no pack is fetched twice (a pack whose current
version fails its checks is fetched again whole, to fall back to an older version).

Every chunk is checked three ways: its AES-GCM tag and its keyed id before a byte of it
is written, and its pack's name hash and MAC before it counts. A file is written under a
temporary name and renamed into place only when all its chunks passed, so a damaged file
is never restored, not even in part. Nothing is written through a symlink in the destination.
"""
from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, NotFoundError, PathOutsideRootsError, RefusedError
from .format import BlobRef, BlobScratch, PackReader, open_pack, read_blob
from .repository import Repository, SnapshotInfo

DOWNLOADS = 4  # packs streamed and written at once (~1 chunk of memory each)


@dataclass(frozen=True)
class RestoreResult:
    snapshot_id: str
    files: int
    dirs: int
    symlinks: int
    bytes: int
    damaged: list[str] = field(default_factory=list, repr=False)  # paths: never logged
    restored: list[tuple[str, Path]] = field(default_factory=list, repr=False)
    warnings: list[str] = field(default_factory=list)  # damaged objects skipped (ids only)


def selected(path: str, includes: list[str]) -> bool:
    if not includes:
        return True
    return any(path == i or path.startswith(i.rstrip("/") + "/") or i.startswith(path + "/")
               for i in includes)


def dest_path(dest: Path, original: str) -> Path:
    """Where an original absolute path lands under ``dest``; refuses ``..`` tricks."""
    parts = [p for p in original.split("/") if p not in ("", ".")]
    if ".." in parts or not parts:
        raise PathOutsideRootsError("the snapshot holds a path that would leave the restore folder")
    return dest.joinpath(*parts)


def _safe_parent(dest: Path, target: Path, checked: set[Path]) -> None:
    """Create the folders between dest and target; refuse any symlink among them.
    ``checked`` holds the folders this restore already made or checked."""
    if target.parent in checked:
        return
    cur = dest
    for part in target.relative_to(dest).parts[:-1]:
        cur = cur / part
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            os.mkdir(cur, 0o700)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise PathOutsideRootsError(  # no path in the message: names may be personal
                f"refusing to restore through a symlink or file inside {dest}")
    checked.add(target.parent)


@dataclass
class _File:
    entry: dict[str, Any]
    target: Path
    tmp: Path
    left: int          # chunk writes still to do
    ok: bool = True
    created: bool = False  # the temporary twin exists (made by its first writer)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def create(self) -> None:
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.ftruncate(fd, self.entry["size"])
        finally:
            os.close(fd)
        self.created = True


# One chunk of a pack, and where it goes: (file number, offset) for every use.
_Use = tuple[bytes, BlobRef, list[tuple[int, int]]]


class _PackRestorer:
    """Downloads each needed pack once and writes its chunks into the files; finishes a
    file (mode, mtime, rename into place) the moment its last chunk is written."""

    def __init__(self, repo: Repository, files: list[_File],
                 progress: Callable[[int, int], None] | None) -> None:
        self.repo, self.files, self.progress = repo, files, progress
        self.mutex = threading.Lock()
        self.local = threading.local()  # each thread's BlobScratch
        self.bad: set[str] = set()
        self.bytes = self.done = 0

    def run(self, plan: dict[str, list[_Use]], workers: int) -> None:
        for f in list(self.files):
            if f.left == 0:
                self._finish(f)
        # The packs with the most to do go first, so no thread is left with a big one at
        # the end while the others wait (bytes to write, plus a file creation's worth
        # for each file a pack starts).
        def work(uses: list[_Use]) -> int:
            return sum(ref.raw_length * len(d) + 64 * 1024 * sum(1 for _, o in d if o == 0)
                       for _, ref, d in uses)
        order = sorted(plan.items(), key=lambda item: work(item[1]), reverse=True)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dw-restore") as pool:
            for fut in [pool.submit(self._pack, name, uses) for name, uses in order]:
                fut.result()

    def _pack(self, name: str, uses: list[_Use]) -> None:
        uses.sort(key=lambda u: u[1].offset)
        try:  # streamed: one chunk in memory; counted only once the whole pack checks out
            stream = self.repo.store.open_stream(name)
            try:
                scratch = getattr(self.local, "scratch", None)
                if scratch is None:
                    scratch = self.local.scratch = BlobScratch()
                reader = PackReader(self.repo.keys, name, stream, scratch)
                for cid, ref, dests in uses:
                    self._write(reader.blob(cid, ref), dests)
                reader.finish()
            finally:
                stream.close()
            for _, _, dests in uses:
                self._written(dests, ok=True)
            return
        except (IntegrityError, NotFoundError):
            pass  # overwritten or damaged: read it whole, with the older-version fallback
        try:
            data = self.repo.get_pack(name)
            key = open_pack(self.repo.keys, name, data, checked=True)
        except (IntegrityError, NotFoundError):
            with self.mutex:
                self.bad.add(name)
            for _, _, dests in uses:
                self._written(dests, ok=False)
            return
        for cid, ref, dests in uses:
            try:
                self._write(read_blob(self.repo.keys, data, key, cid, ref), dests)
            except IntegrityError:
                self._written(dests, ok=False)
                continue
            self._written(dests, ok=True)
        del data

    def _write(self, blob: bytes | memoryview, dests: list[tuple[int, int]]) -> None:
        for fno, offset in dests:
            f = self.files[fno]
            if not f.created:
                with f.lock:  # one creator; a thread with a chunk of the same file waits
                    if not f.created:
                        f.create()
            if f.ok:
                fd = os.open(f.tmp, os.O_WRONLY | os.O_NOFOLLOW)
                try:
                    os.pwrite(fd, blob, offset)
                finally:
                    os.close(fd)

    def _written(self, dests: list[tuple[int, int]], *, ok: bool) -> None:
        finished = []
        with self.mutex:
            for fno, _ in dests:
                f = self.files[fno]
                f.ok = f.ok and ok
                f.left -= 1
                if f.left == 0:
                    finished.append(f)
        for f in finished:
            self._finish(f)

    def _finish(self, f: _File) -> None:
        if f.ok:
            if not f.created:  # an empty file: nothing was written to it
                f.create()
            os.chmod(f.tmp, f.entry["mode"])
            os.utime(f.tmp, ns=(f.entry["mtime_ns"], f.entry["mtime_ns"]))
            os.replace(f.tmp, f.target)
            with self.mutex:
                self.bytes += f.entry["size"]
                self.done += 1
                if self.progress:
                    self.progress(self.bytes, self.done)
        else:
            f.tmp.unlink(missing_ok=True)


def _unpooled_big_buffers() -> None:
    """Have glibc give each pack-sized buffer back to the system when it is freed (a fixed
    1 MiB mmap threshold): otherwise freed packs stay in the download threads' heaps and
    the restore's memory grows with each thread's largest pack."""
    try:
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: its own allocator decides


def restore(repo: Repository, snap: SnapshotInfo, dest: Path, *, includes: list[str] | None = None,
            overwrite: bool = False, progress: Callable[[int, int], None] | None = None,
            workers: int = DOWNLOADS) -> RestoreResult:
    _unpooled_big_buffers()
    includes = [i.rstrip("/") or "/" for i in (includes or [])]
    tree = repo.snapshot_tree(snap)
    index = repo.load_index()
    dest = Path(os.path.abspath(dest))
    if dest.is_symlink():
        raise PathOutsideRootsError(f"the restore folder {dest} is a symlink")
    dest.mkdir(parents=True, exist_ok=True)
    files: list[_File] = []
    plan: dict[str, dict[bytes, _Use]] = {}
    dirs: list[tuple[Path, dict[str, Any]]] = []
    checked: set[Path] = set()
    n_links = 0
    try:
        for entry in tree:
            if not selected(entry["path"], includes):
                continue
            if entry["type"] == "file":
                _plan_file(dest, checked, entry, overwrite, index, files, plan)
            else:
                n_links += _restore_other(dest, checked, entry, overwrite, dirs)
        restorer = _PackRestorer(repo, files, progress)
        repo.confirm_lock()  # a lock begun before the plan has settled by now (or waits)
        restorer.run({p: list(uses.values()) for p, uses in plan.items()}, workers)
    finally:
        for f in files:
            if f.created and (f.left or not f.ok):
                f.tmp.unlink(missing_ok=True)
    for target, entry in sorted(dirs, key=lambda d: len(d[0].parts), reverse=True):
        os.chmod(target, entry["mode"], follow_symlinks=False)
        os.utime(target, ns=(entry["mtime_ns"], entry["mtime_ns"]), follow_symlinks=False)
    damaged = [f.entry["path"] for f in files if not f.ok]
    restored = [(f.entry["path"], f.target) for f in files if f.ok]
    warnings = [f"{k.split('/')[0]} object {k.split('/')[1][:12]} is damaged and was skipped"
                for k in repo.damaged]
    warnings += [f"pack {p[6:18]} is damaged or missing" for p in sorted(restorer.bad)]
    return RestoreResult(snap.id, len(restored), len(dirs), n_links, restorer.bytes, damaged,
                         restored, warnings)


def _plan_file(dest: Path, checked: set[Path], entry: dict[str, Any], overwrite: bool,
               index: dict[bytes, BlobRef], files: list[_File],
               plan: dict[str, dict[bytes, _Use]]) -> None:
    """Check the file's place and add its chunks to the plan (its temporary twin is made
    by the first write)."""
    target = dest_path(dest, entry["path"])
    _safe_parent(dest, target, checked)
    if os.path.lexists(target) and (
            not overwrite or os.path.islink(target) or not os.path.isfile(target)):
        raise RefusedError("a file to restore already exists in the restore folder; "
                           "restore into an empty folder or pass --overwrite")
    tmp = target.with_name(f".{target.name}.dwrestore")
    f = _File(entry, target, tmp, len(entry["chunks"]))
    fno = len(files)
    files.append(f)
    offset = 0
    for hexid in entry["chunks"]:
        cid = bytes.fromhex(hexid)
        ref = index.get(cid)
        if ref is None:  # in no index: the file cannot be restored whole
            f.ok = False
            f.left -= 1
            continue
        use = plan.setdefault(ref.pack, {}).get(cid)
        if use is None:
            use = plan[ref.pack][cid] = (cid, ref, [])
        use[2].append((fno, offset))
        offset += ref.raw_length


def _restore_other(dest: Path, checked: set[Path], entry: dict[str, Any], overwrite: bool,
                   dirs: list[tuple[Path, dict[str, Any]]]) -> int:
    """Make a folder or symlink; returns 1 for a symlink made."""
    target = dest_path(dest, entry["path"])
    _safe_parent(dest, target, checked)
    kind = entry["type"]
    if kind == "dir":
        try:
            if not stat.S_ISDIR(os.lstat(target).st_mode):
                raise PathOutsideRootsError(
                    f"refusing to restore a folder over a file or symlink inside {dest}")
        except FileNotFoundError:
            os.mkdir(target, 0o700)
        dirs.append((target, entry))
        checked.add(target)
        return 0
    if kind == "symlink":
        if os.path.lexists(target):
            if not overwrite:
                raise RefusedError(f"a path to restore already exists in {dest}; restore "
                                   "into an empty folder or pass --overwrite")
            os.unlink(target)
        os.symlink(entry["target"], target)
        os.utime(target, ns=(entry["mtime_ns"], entry["mtime_ns"]), follow_symlinks=False)
        return 1
    return 0
