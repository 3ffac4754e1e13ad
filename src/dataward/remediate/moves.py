"""Moving one file for a remediation: by one ``rename`` on the same file system, else by
copy, verify, place and remove, in an order that survives ``kill -9`` at any point.

Both reach each folder from its root by descriptors opened with O_NOFOLLOW
(``retention.safefs``) and never overwrite a file.

A copy (a move to another file system, or a rename that writes the old name into the
image's metadata) goes through these steps, each recorded in the ledger before
(``copying``) or after (``placed``, ``done``) it happens:

1. ``copying`` is recorded: the intent, before anything is written;
2. the content is written to ``.dataward-<plan>-<n>.part`` in the destination folder
   (created exclusively, never through a link), flushed with ``fsync``, and its SHA-256
   is checked against what was planned;
3. it is linked to its final name (``link`` fails if the name is taken, so nothing is
   overwritten), the ``.part`` name removed and the folder flushed; ``placed`` is recorded
   with the new content's SHA-256;
4. the source, if it still has the planned content, is removed and its folder flushed;
   ``done`` is recorded.

Run again after a kill: ``copying`` removes any ``.part`` left, then, with the final
name holding the expected content, goes on from 4, else starts again; ``placed``
goes on from 4. The source is removed only once a verified copy is in place."""
from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..retention.safefs import (
    CHUNK,
    ensure_dir,
    fsync_dir,
    is_regular,
    lstat_at,
    open_dir,
    sha256_at,
)

_READ = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Steps:
    """The ledger states of one direction of a copy (apply or undo)."""
    copying: str
    placed: str
    done: str


APPLY = Steps("copying", "placed", "done")
UNDO = Steps("undo-copying", "undo-placed", "undone")


def dest_dir(root: str, rel_dir: str) -> int:
    """A descriptor of ``root/rel_dir``, made if needed, no symlink followed."""
    with open_dir(Path(root)) as rfd:
        fd = os.dup(rfd)
    for name in [p for p in rel_dir.split("/") if p]:
        nfd = ensure_dir(fd, name, 0o750)
        os.close(fd)
        fd = nfd
    return fd


def _parent(rel: str) -> str:
    p = str(PurePosixPath(rel).parent)
    return "" if p == "." else p


def same_file_system(src_root: str, src_rel: str, dst_root: str, dst_rel: str) -> bool:
    with open_dir(Path(src_root), _parent(src_rel)) as sfd:
        dfd = dest_dir(dst_root, _parent(dst_rel))
        try:
            return os.fstat(sfd).st_dev == os.fstat(dfd).st_dev
        finally:
            os.close(dfd)


def _refusal(sfd: int, name: str, sha256: str) -> str | None:
    st = lstat_at(sfd, name)
    if not is_regular(st):
        return "not a regular file any more (missing, a folder or a symlink)"
    assert st is not None
    if st.st_nlink > 1:
        return f"has {st.st_nlink} hard links: moving one name would leave the data"
    if sha256 and sha256_at(sfd, name) != sha256:
        return "its content changed since the plan"
    return None


def rename_move(src_root: str, src_rel: str, dst_root: str, dst_rel: str,
                sha256: str) -> str | None:
    """Move one file by one ``rename`` (same file system); returns why it was refused, or
    None when it is (now) at its destination."""
    s, d = PurePosixPath(src_rel), PurePosixPath(dst_rel)
    with open_dir(Path(src_root), _parent(src_rel)) as sfd:
        dfd = dest_dir(dst_root, _parent(dst_rel))
        try:
            st, there = lstat_at(sfd, s.name), lstat_at(dfd, d.name)
            if st is None and is_regular(there) and sha256_at(dfd, d.name) == sha256:
                return None        # moved before a crash: count it as done
            why = _refusal(sfd, s.name, sha256)
            if why:
                return why
            if there is not None:
                return "a file of that name already exists at the destination"
            os.rename(s.name, d.name, src_dir_fd=sfd, dst_dir_fd=dfd)
            fsync_dir(dfd)
            fsync_dir(sfd)
            return None
        finally:
            os.close(dfd)


def _read_all(dir_fd: int, name: str) -> bytes:
    fd = os.open(name, _READ, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def _write_part(sfd: int, name: str, dfd: int, part: str,
                transform: Callable[[bytes], bytes] | None) -> str:
    """Write the (transformed) content of ``name`` to ``part``, flushed; its SHA-256."""
    src = os.open(name, _READ, dir_fd=sfd)
    st = os.fstat(src)
    out = os.open(part, _CREATE, st.st_mode & 0o777, dir_fd=dfd)
    digest = hashlib.sha256()
    try:
        if transform is None:
            while chunk := os.read(src, CHUNK):
                digest.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view):]
        else:
            with os.fdopen(os.dup(src), "rb") as fh:
                data = transform(fh.read())
            digest.update(data)
            view = memoryview(data)
            while view:
                view = view[os.write(out, view):]
        try:   # the owner and group stay the school's (when dataward may set them)
            os.fchown(out, st.st_uid, st.st_gid)
        except PermissionError:
            pass
        os.fchmod(out, st.st_mode & 0o777)   # its own mode, not dataward's umask
        os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.fsync(out)
    finally:
        os.close(out)
        os.close(src)
    return digest.hexdigest()


def _place(dfd: int, part: str, name: str) -> bool:
    """Give ``part`` its final name without overwriting anything; False if it is taken."""
    try:
        os.link(part, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
    except FileExistsError:
        return False
    except OSError as exc:       # a file system without hard links (some SMB mounts)
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if lstat_at(dfd, name) is not None:
            return False
        os.rename(part, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        fsync_dir(dfd)
        return True
    os.unlink(part, dir_fd=dfd)
    fsync_dir(dfd)
    return True


def copy_move(src_root: str, src_rel: str, dst_root: str, dst_rel: str, *, sha256: str,
              state: str, steps: Steps, part: str, record: Callable[[str, str], None],
              transform: Callable[[bytes], bytes] | None = None,
              placed_sha: str = "") -> str | None:
    """Copy, verify, place and remove one file (the steps in the module docstring).
    ``record(state, new_sha256)`` writes a step to the ledger; ``placed_sha`` is the
    content recorded with ``placed`` by an earlier run. Returns why the file was refused,
    or None when it is done."""
    s, d = PurePosixPath(src_rel), PurePosixPath(dst_rel)
    with open_dir(Path(src_root), _parent(src_rel)) as sfd:
        dfd = dest_dir(dst_root, _parent(dst_rel))
        try:
            if state == steps.placed:
                return _remove_source(sfd, s.name, dfd, d.name, sha256, placed_sha, steps, record)
            src_here = is_regular(lstat_at(sfd, s.name))
            if state == steps.copying:
                if is_regular(lstat_at(dfd, part)):
                    os.unlink(part, dir_fd=dfd)         # a copy cut short, or its link left
                    fsync_dir(dfd)
                expected = _expected(sfd, s.name, sha256, transform) if src_here else ""
                there = lstat_at(dfd, d.name)
                if expected and is_regular(there) and sha256_at(dfd, d.name) == expected:
                    record(steps.placed, expected)      # placed before the kill
                    return _remove_source(sfd, s.name, dfd, d.name, sha256, expected, steps,
                                          record)
            why = _refusal(sfd, s.name, sha256)
            if why:
                return why
            if lstat_at(dfd, d.name) is not None:
                return "a file of that name already exists at the destination"
            if lstat_at(dfd, part) is not None:
                os.unlink(part, dir_fd=dfd)
            record(steps.copying, "")
            written = _write_part(sfd, s.name, dfd, part, transform)
            if sha256_at(dfd, part) != written or (transform is None and written != sha256):
                os.unlink(part, dir_fd=dfd)
                record("planned" if steps is APPLY else "done", "")
                return "the copy did not read back as written (disk or network fault)"
            if not _place(dfd, part, d.name):
                os.unlink(part, dir_fd=dfd)
                record("planned" if steps is APPLY else "done", "")
                return "a file of that name already exists at the destination"
            record(steps.placed, written)
            return _remove_source(sfd, s.name, dfd, d.name, sha256, written, steps, record)
        finally:
            os.close(dfd)


def _expected(sfd: int, name: str, sha256: str, transform: Callable[[bytes], bytes] | None) -> str:
    if transform is None:
        return sha256
    return hashlib.sha256(transform(_read_all(sfd, name))).hexdigest()


def _remove_source(sfd: int, name: str, dfd: int, dname: str, sha256: str, placed_sha: str,
                   steps: Steps, record: Callable[[str, str], None]) -> str | None:
    if not (is_regular(lstat_at(dfd, dname)) and sha256_at(dfd, dname) == placed_sha):
        return "the copy in place is not the one written (changed or removed): source kept"
    st = lstat_at(sfd, name)
    if st is not None:
        why = _refusal(sfd, name, sha256)
        if why:
            return f"copied, but the source was not removed: {why}"
        os.unlink(name, dir_fd=sfd)
        fsync_dir(sfd)
    record(steps.done, placed_sha)
    return None
