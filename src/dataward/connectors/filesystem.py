"""File shares: walk the configured roots and describe each entry, without reading it.

Never follows a symbolic link (a link is an entry of kind ``symlink``, recorded and not
entered), never leaves the root, and survives what a live share does during a walk:
folders that cannot be listed, entries that vanish, names that are not valid UTF-8.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import pathspec

from ..errors import ConfigError, PathOutsideRootsError
from ..settings import Source


@dataclass(frozen=True)
class FileEntry:
    path: str            # the OS path (str; undecodable bytes kept by surrogateescape)
    rel: str             # path relative to the source root, '/'-separated
    kind: str            # file | symlink | special | dir-error
    size: int = 0
    mtime_ns: int = 0
    inode: int = 0
    dev: int = 0
    uid: int = -1
    mode: int = 0
    error: str = ""

    @property
    def locator(self) -> str:
        return file_locator(self.path)

    @property
    def display_path(self) -> str:
        return display(self.path)


def file_locator(path: str) -> str:
    """``file:///...`` with every byte that is not plain ASCII percent-encoded, so names
    with invalid UTF-8 still get a stable, valid locator."""
    # '!' and '#' are encoded: they separate a container's members in child locators.
    return "file://" + quote(os.fsencode(path), safe="/-._~$&'()*+,;=:@")


def display(path: str) -> str:
    """The path as text for people: undecodable bytes shown as U+FFFD."""
    return os.fsencode(path).decode("utf-8", errors="replace")


@lru_cache(maxsize=4096)
def owner_name(uid: int) -> str:
    if uid < 0:
        return ""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def glob_spec(patterns: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """The one meaning of include/exclude globs everywhere in dataward: gitignore's
    (``*.tmp`` at any depth, ``node_modules/`` a folder and all below, ``/x`` anchored
    at the root, ``**/`` any number of folders). Scan and backup both use it."""
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


def _error_text(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


@dataclass(frozen=True)
class TreeEntry:
    """One entry met by ``walk_tree``. ``st`` is the entry's own lstat (a link is never
    followed); ``None`` when ``error`` is set: ``unlisted`` for a folder that could not be
    listed, ``vanished`` for an entry gone between listing and stat."""
    path: str            # OS path (undecodable bytes kept by surrogateescape)
    rel: str             # relative to the walked root, '/'-separated ("" for the root)
    st: os.stat_result | None
    error: str = ""      # "" | "unlisted" | "vanished"
    reason: str = ""     # the OS's words for the error


def walk_tree(root: str, *, include: Iterable[str] = ("**",), exclude: Iterable[str] = (),
              dirs: bool = False, prune: Callable[[str], bool] | None = None,
              ) -> Iterator[TreeEntry]:
    """Every entry below the folder ``root``, depth first, sorted by name within a folder,
    each folder's entries before its subfolders' (parents first).

    - links are yielded as entries and never followed or entered;
    - a folder already entered (same device and inode: bind mounts, loops) is not
      entered again;
    - ``exclude`` (gitignore meaning, see ``glob_spec``) drops files and prunes folders
      (tested as ``rel/`` so ``name/`` patterns match folders); ``include`` selects
      non-folders only; ``prune(rel)`` lets a job skip folders of its own;
    - ``dirs=True`` yields the folders entered too (before their contents);
    - errors are yielded, never raised: the caller chooses to count, report or refuse.
    """
    inc, exc = glob_spec(include), glob_spec(exclude)
    root = os.path.abspath(root)
    try:
        rst = os.lstat(root)
    except OSError as e:
        yield TreeEntry(root, "", None, "unlisted", _error_text(e))
        return
    seen_dirs = {(rst.st_dev, rst.st_ino)}
    stack = [(root, "")]
    while stack:
        dir_path, dir_rel = stack.pop()
        try:
            with os.scandir(dir_path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield TreeEntry(dir_path, dir_rel, None, "unlisted", _error_text(e))
            continue
        subdirs = []
        for de in entries:
            rel = f"{dir_rel}/{de.name}" if dir_rel else de.name
            try:
                st = de.stat(follow_symlinks=False)
            except OSError as e:  # vanished between listing and stat
                yield TreeEntry(de.path, rel, None, "vanished", _error_text(e))
                continue
            if stat.S_ISDIR(st.st_mode):
                if exc.match_file(rel + "/") or (prune is not None and prune(rel)):
                    continue
                key = (st.st_dev, st.st_ino)
                if key not in seen_dirs:  # bind mounts can make loops without links
                    seen_dirs.add(key)
                    subdirs.append((de.path, rel))
                    if dirs:
                        yield TreeEntry(de.path, rel, st)
                continue
            if not inc.match_file(rel) or exc.match_file(rel):
                continue
            yield TreeEntry(de.path, rel, st)
        stack.extend(reversed(subdirs))


def walk(source: Source) -> Iterator[FileEntry]:
    """Every entry under the source's root that its include/exclude globs select."""
    if source.path is None:  # an SMB source: walk_smb reads it
        raise ConfigError(f"source {source.name!r} has no local path to walk")
    root = os.path.abspath(os.fspath(source.path))
    try:
        st = os.lstat(root)
    except OSError as exc:
        yield FileEntry(root, "", "dir-error", error=f"cannot open the source root: {_error_text(exc)}")
        return
    if stat.S_ISLNK(st.st_mode):
        yield FileEntry(root, "", "symlink", error="the source root is a symbolic link (not followed)")
        return
    if stat.S_ISREG(st.st_mode):  # a single file given as a source
        yield _entry(root, os.path.basename(root), st)
        return
    for e in walk_tree(root, include=source.include, exclude=source.exclude):
        if e.st is not None:
            yield _entry(e.path, e.rel, e.st)
        elif e.error == "unlisted":
            yield FileEntry(e.path, e.rel or ".", "dir-error", error=f"cannot list folder: {e.reason}")
        else:
            yield FileEntry(e.path, e.rel, "dir-error", error=f"vanished: {e.reason}")


def source_problem(source: Source, *, expect_dir: bool) -> str | None:
    """Why the source cannot be scanned now (missing, not a folder, unreadable, a mount
    point with nothing mounted), or None. A source with a problem is unavailable: its
    files are not gone, they could not be seen."""
    if source.kind == "smb" or source.path is None:
        return None  # an SMB share is reached by its walk, which says why it cannot be
    root = os.path.abspath(os.fspath(source.path))
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return "it does not exist"
    except OSError as exc:
        return f"cannot open it: {_error_text(exc)}"
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link (not followed)"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder" if expect_dir else None
    if source.mount and not os.path.ismount(root):
        # Nothing mounted: the path is a folder of the parent file system.
        return "nothing is mounted there (the source is set with mount: true)"
    try:
        with os.scandir(root) as it:
            next(it, None)
    except OSError as exc:
        return f"cannot list it: {_error_text(exc)}"
    return None


def _entry(path: str, rel: str, st: os.stat_result) -> FileEntry:
    if stat.S_ISLNK(st.st_mode):
        kind = "symlink"
    elif stat.S_ISREG(st.st_mode):
        kind = "file"
    else:
        kind = "special"
    return FileEntry(path, rel, kind, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev,
                     st.st_uid, stat.S_IMODE(st.st_mode))


def file_sha256(path: str | os.PathLike[str], *, dir_fd: int | None = None) -> str:
    """SHA-256 of a file's contents, read in blocks; a symbolic link is not followed
    (OSError ELOOP). ``dir_fd`` makes ``path`` relative to an open folder."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                 dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_head(entry: FileEntry, n: int) -> bytes:
    """The first ``n`` bytes of a walked file, with the same safety as ``read_file``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(entry.path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_ino != entry.inode:
            raise ValueError("replaced by something else during the scan")
        return os.read(fd, n)
    finally:
        os.close(fd)


def read_file(entry: FileEntry, limit: int) -> bytes:
    """Read a walked file, refusing anything that is no longer that same regular file.

    O_NOFOLLOW: a file swapped for a symlink after the walk is not followed; O_NONBLOCK:
    a file swapped for a FIFO does not hang the scan. Raises OSError (with a reason the
    item's error column can show) or ValueError when the file changed under us."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(entry.path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("replaced by something that is not a file during the scan")
        if st.st_ino != entry.inode:
            raise ValueError("replaced by another file during the scan")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(8 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        after = os.fstat(fd)
        if after.st_size != entry.size or after.st_mtime_ns != entry.mtime_ns or total != entry.size:
            raise ValueError("changed while being read (it will be read again next scan)")
        return b"".join(chunks)
    finally:
        os.close(fd)


def ensure_within(path: Path, roots: list[Path]) -> Path:
    """The resolved path, if it lies inside one of ``roots`` and no part of it is a link."""
    p = Path(os.path.abspath(path))
    for root in roots:
        r = Path(os.path.abspath(root))
        if p == r or r in p.parents:
            cur = r
            for part in p.relative_to(r).parts:
                cur = cur / part
                if cur.is_symlink():
                    raise PathOutsideRootsError(f"{display(str(cur))} is a symbolic link; dataward does not follow links")
            return p
    raise PathOutsideRootsError(f"{display(str(p))} is outside the configured roots")
