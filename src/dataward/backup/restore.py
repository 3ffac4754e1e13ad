"""`backup restore`: rebuild files from a snapshot, byte for byte, with mode and mtime.

Every chunk is checked three ways before a byte is written: the pack's name hash and
MAC, the chunk's AES-GCM tag, and its keyed id. A file is written under a temporary
name and renamed into place only when all its chunks passed, so a damaged file is never
restored, not even in part. Nothing is written through a symlink in the destination.
"""
from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, NotFoundError, PathOutsideRootsError, RefusedError
from .format import BlobRef, open_pack, read_blob
from .repository import Repository, SnapshotInfo

PACK_CACHE = 3  # packs held in memory (~16 MiB each)


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


class _Packs:
    """A small LRU of checked packs and their object keys, shared by the decode threads
    (each pack is fetched once even when two threads want it at the same time)."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.items: OrderedDict[str, Future[tuple[bytes, bytes]]] = OrderedDict()
        self.bad: set[str] = set()
        self.lock = threading.Lock()

    def get(self, name: str) -> tuple[bytes, bytes]:
        with self.lock:
            fut = self.items.get(name)
            owner = fut is None
            if fut is None:
                fut = self.items[name] = Future()
                while len(self.items) > PACK_CACHE:
                    self.items.popitem(last=False)
            else:
                self.items.move_to_end(name)
        if owner:
            try:
                data = self.repo.get_pack(name)
                fut.set_result((data, open_pack(self.repo.keys, name, data, checked=True)))
            except (IntegrityError, NotFoundError) as exc:
                self.bad.add(name)
                fut.set_exception(exc)
        return fut.result()


class _Decoder:
    """Decrypts, decompresses and checks the chunks of the files to restore on two
    threads, a few chunks ahead of the thread that writes them, in order."""

    def __init__(self, repo: Repository, index: dict[bytes, BlobRef],
                 chunks: Iterator[str], depth: int = 16) -> None:
        self.repo, self.index = repo, index
        self.packs = _Packs(repo)
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dw-restore")
        # Fetching and checking a pack (16 MiB read + hash) happens on its own thread as
        # soon as a chunk of it enters the window, so decoders rarely wait for it.
        self.fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dw-fetch")
        self.chunks = chunks
        self.window: deque[Future[bytes | None]] = deque()
        self.depth = depth
        self._last_pack = ""

    def _decode(self, hexid: str) -> bytes | None:
        cid = bytes.fromhex(hexid)
        ref = self.index.get(cid)
        if ref is None:
            return None
        try:
            pack, key = self.packs.get(ref.pack)
            return read_blob(self.repo.keys, pack, key, cid, ref)
        except (IntegrityError, NotFoundError):
            return None

    def _prefetch(self, pack: str) -> None:
        try:
            self.packs.get(pack)
        except (IntegrityError, NotFoundError):
            pass  # the decoder that needs it reports the damage

    def next(self) -> bytes | None:
        """The next chunk in order, or None when it is missing or damaged."""
        while len(self.window) < self.depth:
            hexid = next(self.chunks, None)
            if hexid is None:
                break
            ref = self.index.get(bytes.fromhex(hexid))
            if ref is not None and ref.pack != self._last_pack:
                self._last_pack = ref.pack
                self.fetcher.submit(self._prefetch, ref.pack)
            self.window.append(self.pool.submit(self._decode, hexid))
        return self.window.popleft().result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.fetcher.shutdown(wait=True, cancel_futures=True)


def restore(repo: Repository, snap: SnapshotInfo, dest: Path, *, includes: list[str] | None = None,
            overwrite: bool = False,
            progress: Callable[[int, int], None] | None = None) -> RestoreResult:
    includes = [i.rstrip("/") or "/" for i in (includes or [])]
    tree = repo.snapshot_tree(snap)
    index = repo.load_index()
    dest = Path(os.path.abspath(dest))
    if dest.is_symlink():
        raise PathOutsideRootsError(f"the restore folder {dest} is a symlink")
    dest.mkdir(parents=True, exist_ok=True)
    wanted = [e for e in tree if selected(e["path"], includes)]
    decoder = _Decoder(repo, index, (h for e in wanted if e["type"] == "file" for h in e["chunks"]))
    damaged: list[str] = []
    restored: list[tuple[str, Path]] = []
    dirs: list[tuple[Path, dict[str, Any]]] = []
    checked: set[Path] = set()
    n_files = n_links = total = 0
    try:
        for entry in wanted:
            n_files, n_links, total = _restore_entry(
                dest, checked, entry, decoder, overwrite, dirs, damaged, restored,
                n_files, n_links, total)
            if progress and entry["type"] == "file":
                progress(total, n_files)
    finally:
        decoder.close()
    for target, entry in sorted(dirs, key=lambda d: len(d[0].parts), reverse=True):
        os.chmod(target, entry["mode"], follow_symlinks=False)
        os.utime(target, ns=(entry["mtime_ns"], entry["mtime_ns"]), follow_symlinks=False)
    warnings = [f"{k.split('/')[0]} object {k.split('/')[1][:12]} is damaged and was skipped"
                for k in repo.damaged]
    warnings += [f"pack {p[6:18]} is damaged or missing" for p in sorted(decoder.packs.bad)]
    return RestoreResult(snap.id, n_files, len(dirs), n_links, total, damaged, restored, warnings)


def _restore_entry(dest: Path, checked: set[Path], entry: dict[str, Any], decoder: _Decoder,
                   overwrite: bool,
                   dirs: list[tuple[Path, dict[str, Any]]], damaged: list[str],
                   restored: list[tuple[str, Path]], n_files: int, n_links: int,
                   total: int) -> tuple[int, int, int]:
    """Restore one entry; returns the updated (files, symlinks, bytes) counts."""
    target = dest_path(dest, entry["path"])
    kind = entry["type"]
    if kind == "file":
        # Consume this file's chunks even if it cannot be written, to stay in step.
        _safe_parent(dest, target, checked)
        if _restore_file(decoder, entry, target, overwrite):
            restored.append((entry["path"], target))
            return n_files + 1, n_links, total + entry["size"]
        damaged.append(entry["path"])
        return n_files, n_links, total
    _safe_parent(dest, target, checked)
    if kind == "dir":
        try:
            if not stat.S_ISDIR(os.lstat(target).st_mode):
                raise PathOutsideRootsError(
                    f"refusing to restore a folder over a file or symlink inside {dest}")
        except FileNotFoundError:
            os.mkdir(target, 0o700)
        dirs.append((target, entry))
    elif kind == "symlink":
        if os.path.lexists(target):
            if not overwrite:
                raise RefusedError(f"a path to restore already exists in {dest}; restore "
                                   "into an empty folder or pass --overwrite")
            os.unlink(target)
        os.symlink(entry["target"], target)
        os.utime(target, ns=(entry["mtime_ns"], entry["mtime_ns"]), follow_symlinks=False)
        n_links += 1
    return n_files, n_links, total


def _restore_file(decoder: _Decoder, entry: dict[str, Any], target: Path, overwrite: bool) -> bool:
    """Write one file; False (and nothing left behind) when any chunk is damaged."""
    if os.path.lexists(target):
        if not overwrite or os.path.islink(target) or not os.path.isfile(target):
            raise RefusedError("a file to restore already exists in the restore folder; "
                               "restore into an empty folder or pass --overwrite")
    tmp = target.with_name(f".{target.name}.dwrestore")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    ok = True
    try:
        with os.fdopen(fd, "wb") as fh:
            for _ in entry["chunks"]:
                data = decoder.next()
                if data is None:
                    ok = False
                elif ok:
                    fh.write(data)
        if ok:
            os.chmod(tmp, entry["mode"])
            os.utime(tmp, ns=(entry["mtime_ns"], entry["mtime_ns"]))
            os.replace(tmp, target)
    finally:
        if not ok or os.path.lexists(tmp):
            tmp.unlink(missing_ok=True)
    return ok
