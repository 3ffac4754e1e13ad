"""`backup restore`: rebuild files from a snapshot, byte for byte, with mode and mtime.

Every chunk is checked three ways before a byte is written: the pack's name hash and
MAC, the chunk's AES-GCM tag, and its keyed id. A file is written under a temporary
name and renamed into place only when all its chunks passed, so a damaged file is never
restored, not even in part. Nothing is written through a symlink in the destination.
"""
from __future__ import annotations

import os
import stat
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import IntegrityError, NotFoundError, PathOutsideRootsError, RefusedError
from .format import BlobRef, open_pack, read_blob
from .repository import Repository, SnapshotInfo

PACK_CACHE = 4  # packs held in memory (~16 MiB each)


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


def _safe_parent(dest: Path, target: Path) -> None:
    """Create the folders between dest and target; refuse any symlink among them."""
    cur = dest
    for part in target.relative_to(dest).parts[:-1]:
        cur = cur / part
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            os.mkdir(cur, 0o700)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise PathOutsideRootsError(f"refusing to restore through {cur}: not a plain folder")


class _Packs:
    """A small LRU of checked packs and their object keys."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.items: OrderedDict[str, tuple[bytes, bytes]] = OrderedDict()
        self.bad: set[str] = set()

    def get(self, name: str) -> tuple[bytes, bytes]:
        if name in self.bad:
            raise IntegrityError(f"pack {name[6:18]} is damaged")
        if name in self.items:
            self.items.move_to_end(name)
            return self.items[name]
        try:
            data = self.repo.get_pack(name)
            item = (data, open_pack(self.repo.keys, name, data, checked=True))
        except (IntegrityError, NotFoundError):
            self.bad.add(name)
            raise
        self.items[name] = item
        while len(self.items) > PACK_CACHE:
            self.items.popitem(last=False)
        return item


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
    packs = _Packs(repo)
    damaged: list[str] = []
    restored: list[tuple[str, Path]] = []
    dirs: list[tuple[Path, dict[str, Any]]] = []
    n_files = n_links = total = 0
    for entry in tree:
        if not selected(entry["path"], includes):
            continue
        target = dest_path(dest, entry["path"])
        _safe_parent(dest, target)
        kind = entry["type"]
        if kind == "dir":
            try:
                st = os.lstat(target)
                if not stat.S_ISDIR(st.st_mode):
                    raise PathOutsideRootsError(f"refusing to restore into {target}: not a folder")
            except FileNotFoundError:
                os.mkdir(target, 0o700)
            dirs.append((target, entry))
        elif kind == "symlink":
            if os.path.lexists(target):
                if not overwrite:
                    raise RefusedError(f"{target} exists; restore into an empty folder "
                                       "or pass --overwrite")
                os.unlink(target)
            os.symlink(entry["target"], target)
            os.utime(target, ns=(entry["mtime_ns"], entry["mtime_ns"]), follow_symlinks=False)
            n_links += 1
        elif kind == "file":
            if _restore_file(repo, packs, index, entry, target, overwrite):
                n_files += 1
                total += entry["size"]
                restored.append((entry["path"], target))
                if progress:
                    progress(total, n_files)
            else:
                damaged.append(entry["path"])
    for target, entry in sorted(dirs, key=lambda d: len(d[0].parts), reverse=True):
        os.chmod(target, entry["mode"], follow_symlinks=False)
        os.utime(target, ns=(entry["mtime_ns"], entry["mtime_ns"]), follow_symlinks=False)
    warnings = [f"{k.split('/')[0]} object {k.split('/')[1][:12]} is damaged and was skipped"
                for k in repo.damaged]
    warnings += [f"pack {p[6:18]} is damaged or missing" for p in sorted(packs.bad)]
    return RestoreResult(snap.id, n_files, len(dirs), n_links, total, damaged, restored, warnings)


def _restore_file(repo: Repository, packs: _Packs, index: dict[bytes, BlobRef],
                  entry: dict[str, Any], target: Path, overwrite: bool) -> bool:
    """Write one file; False (and nothing left behind) when any chunk is damaged."""
    if os.path.lexists(target):
        if not overwrite or os.path.islink(target) or not os.path.isfile(target):
            raise RefusedError(f"{target} exists; restore into an empty folder or pass --overwrite")
    tmp = target.with_name(f".{target.name}.dwrestore")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    ok = True
    try:
        with os.fdopen(fd, "wb") as fh:
            for hexid in entry["chunks"]:
                cid = bytes.fromhex(hexid)
                ref = index.get(cid)
                if ref is None:
                    ok = False
                    break
                try:
                    pack, key = packs.get(ref.pack)
                    fh.write(read_blob(repo.keys, pack, key, cid, ref))
                except (IntegrityError, NotFoundError):
                    ok = False
                    break
        if ok:
            os.chmod(tmp, entry["mode"])
            os.utime(tmp, ns=(entry["mtime_ns"], entry["mtime_ns"]))
            os.replace(tmp, target)
    finally:
        if not ok or os.path.lexists(tmp):
            tmp.unlink(missing_ok=True)
    return ok
