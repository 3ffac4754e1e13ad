"""File operations that stay inside an image root and never follow a symlink.

Every path is opened component by component from the root with O_NOFOLLOW and
O_DIRECTORY, so a folder swapped for a symlink after planning is refused (ELOOP or
ENOTDIR) instead of being walked through; files are named relative to their folder's
descriptor (``dir_fd``), so the checked folder is the one the rename or unlink acts in.
"""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..connectors.filesystem import file_sha256
from ..errors import PathOutsideRootsError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
CHUNK = 1 << 20


def split_rel(rel: str) -> list[str]:
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise PathOutsideRootsError("refused a path that would leave its root (not a plain "
                                    "relative path)")
    return parts


@contextmanager
def open_dir(root: Path, rel_dir: str = "") -> Iterator[int]:
    """A descriptor of ``root/rel_dir``, reached without following any symlink."""
    try:
        fd = os.open(root, _DIR_FLAGS)
    except OSError as exc:
        raise _refused(root, exc) from None
    try:
        for name in split_rel(rel_dir) if rel_dir else []:
            try:
                nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise _refused(root, exc) from None
            os.close(fd)
            fd = nfd
        yield fd
    finally:
        os.close(fd)


def _refused(path: Path, exc: OSError) -> Exception:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        # the folder names below the root may be pupils' names: they stay out of the message
        return PathOutsideRootsError(
            f"refused a file under {path}: a folder on the way is a symlink or not a folder; "
            "dataward never follows symlinks",
            hint="someone changed the folders since the plan; make a new plan")
    return exc


def ensure_dir(parent_fd: int, name: str, mode: int = 0o700) -> int:
    """Make (if needed) and open a folder inside ``parent_fd``; a symlink there is refused."""
    try:
        os.mkdir(name, mode, dir_fd=parent_fd)
    except FileExistsError:
        pass
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise PathOutsideRootsError(f"refused the folder {name!r}: it is a symlink or a file"
                                        ) from None
        raise


def lstat_at(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def is_regular(st: os.stat_result | None) -> bool:
    return st is not None and stat.S_ISREG(st.st_mode)


def sha256_at(dir_fd: int, name: str) -> str:
    return file_sha256(name, dir_fd=dir_fd)


class HardLinked(Exception):
    """The file has more than one hard link: its bytes are shared with another name."""


def overwrite_at(dir_fd: int, name: str) -> int:
    """Overwrite a file's bytes with zeros in place and flush them to the disk.
    Returns the bytes written. (On SSDs and copy-on-write file systems the old blocks
    may survive; full-disk encryption is the real protection there.)

    A file with more than one hard link is never overwritten (``HardLinked``): the
    zeros would land in every other name of it, outside the roots too. The link count
    is read from the open descriptor, so a link made after any earlier check counts."""
    fd = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if st.st_nlink > 1:
            raise HardLinked(name)
        size = st.st_size
        zeros = bytes(min(CHUNK, max(size, 1)))
        done = 0
        while done < size:
            done += os.write(fd, zeros[: min(CHUNK, size - done)])
        os.fdatasync(fd) if hasattr(os, "fdatasync") else os.fsync(fd)
        return done
    finally:
        os.close(fd)


def fsync_dir(dir_fd: int) -> None:
    try:
        os.fsync(dir_fd)
    except OSError:  # some file systems cannot fsync a folder; the rename still stands
        pass
