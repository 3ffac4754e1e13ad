"""Turn the FILES_OR_FOLDERS a person named into the files of a package.

Rules (invariant 3): every argument must lie inside an allowed root; no symbolic link is
followed, whether it is the argument itself, a folder on the way down from the root, or
an entry inside a selected folder; special files (pipes, devices, sockets) are refused.
Messages name the argument by its position ("argument 2"), never by its path: a path on
a school share often holds a pupil's name.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..connectors.filesystem import walk_tree
from ..errors import ConfigError, NotFoundError, PathOutsideRootsError, RefusedError, UsageError
from ..settings import Settings

MANIFEST_NAME = "MANIFEST-dataward.json"
# Litter that never belongs in a transfer, skipped inside selected folders (a file
# named explicitly is always taken).
JUNK_NAMES = {"thumbs.db", ".ds_store", "desktop.ini"}


@dataclass(frozen=True)
class SelectedFile:
    path: str        # OS path, absolute, below an allowed root, no link on the way
    arcname: str     # its name inside the package ('/'-separated)
    size: int
    mtime: float
    argument: int    # which argument (1-based) it came from


@dataclass(frozen=True)
class Selection:
    files: list[SelectedFile]
    skipped_junk: int

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


def allowed_roots(settings: Settings) -> list[Path]:
    """``transfer.allowed_roots``; when empty, the folders of the configured shares."""
    roots = list(settings.transfer.allowed_roots) or [
        s.path for s in settings.sources if s.kind == "share" and s.path is not None]
    if not roots:
        raise ConfigError(
            "no folders are allowed for packaging",
            hint="set transfer.allowed_roots (or sources) in the config; "
                 "`dataward config check` shows the config in use")
    return [Path(os.path.abspath(os.path.expanduser(r))) for r in roots]


def _root_of(p: Path, roots: list[Path]) -> Path | None:
    for r in roots:
        if p == r or r in p.parents:
            return r
    return None


def _check_no_link_below(root: Path, p: Path, n: int) -> os.stat_result:
    """lstat every component from the root down to ``p``; refuse any link."""
    parts = p.relative_to(root).parts
    cur = root
    st = _lstat(cur, n)
    if stat.S_ISLNK(st.st_mode):
        # The configured root itself may be reached through a link (e.g. /srv -> /mnt/srv),
        # which is the administrator's choice; below it, nothing is followed.
        st = _stat(cur, n)
    for part in parts:
        cur = cur / part
        st = _lstat(cur, n)
        if stat.S_ISLNK(st.st_mode):
            raise PathOutsideRootsError(
                f"argument {n} is a symbolic link or lies under one; "
                "dataward never follows links",
                hint="name the real file or folder instead")
    return st


def refuse_hard_link(st: os.stat_result, what: str) -> None:
    """A file with more than one hard link is also stored under another name, which may
    lie outside every allowed root (rsnapshot trees, de-duplicating photo managers): it
    is refused rather than read through the root."""
    if st.st_nlink > 1:
        raise PathOutsideRootsError(
            f"{what} has {st.st_nlink} hard links: the same file is stored under another "
            "name too, perhaps outside the allowed folders",
            hint="copy it to a plain file (cp, not ln) and package the copy")


def _lstat(p: Path, n: int) -> os.stat_result:
    try:
        return os.lstat(p)
    except FileNotFoundError:
        raise NotFoundError(f"argument {n} does not exist") from None
    except OSError as exc:
        raise NotFoundError(f"argument {n} cannot be read: {exc.strerror}") from None


def _stat(p: Path, n: int) -> os.stat_result:
    try:
        return os.stat(p)
    except OSError as exc:
        raise NotFoundError(f"argument {n} cannot be read: {exc.strerror}") from None


def _text_name(name: str) -> str:
    # Names that are not valid UTF-8 are kept readable (U+FFFD) inside the zip.
    return os.fsencode(name).decode("utf-8", errors="replace")


def _walk_folder(folder: str, prefix: str, n: int, out: list[SelectedFile]) -> int:
    """Transfer's policy on the shared walker: a link or special file anywhere below
    refuses the whole argument, an unreadable folder too; junk files are skipped.
    Returns how many junk files were skipped."""
    junk = 0
    for e in walk_tree(folder):
        if e.st is None:
            what = "a folder inside it cannot be listed" if e.error == "unlisted" \
                else "a file inside it vanished while being listed"
            raise NotFoundError(f"argument {n}: {what}: {e.reason}")
        name = f"{prefix}/{_text_name(e.rel)}"
        if stat.S_ISLNK(e.st.st_mode):
            raise PathOutsideRootsError(
                f"argument {n} (a folder) contains a symbolic link; "
                "dataward never follows links",
                hint="list them with `find FOLDER -type l`, then remove them or "
                     "select the real files")
        if stat.S_ISREG(e.st.st_mode):
            base = e.rel.rsplit("/", 1)[-1]
            if base.lower() in JUNK_NAMES or base.startswith("~$"):
                junk += 1
                continue
            refuse_hard_link(e.st, f"argument {n} (a folder) holds a file that")
            out.append(SelectedFile(e.path, name, e.st.st_size, e.st.st_mtime, n))
        else:
            raise PathOutsideRootsError(
                f"argument {n} (a folder) contains a special file (pipe, device or socket)",
                hint="select ordinary files and folders only")
    return junk


def _unique(files: list[SelectedFile]) -> list[SelectedFile]:
    """Drop repeats of the same file; give clashing names a ' (2)' suffix."""
    seen_inodes: set[tuple[int, int]] = set()
    taken = {MANIFEST_NAME.lower()}
    out = []
    for f in files:
        st = os.stat(f.path, follow_symlinks=False)
        key = (st.st_dev, st.st_ino)
        if key in seen_inodes:
            continue
        seen_inodes.add(key)
        name = f.arcname
        if name.lower() in taken:
            pp = PurePosixPath(name)
            i = 2
            while (name := str(pp.with_name(f"{pp.stem} ({i}){pp.suffix}"))).lower() in taken:
                i += 1
        taken.add(name.lower())
        out.append(SelectedFile(f.path, name, f.size, f.mtime, f.argument))
    return out


def select_files(args: list[Path | str], settings: Settings) -> Selection:
    """Expand the arguments into files, refusing anything outside the rules."""
    if not args:
        raise UsageError("nothing to package: name at least one file or folder")
    roots = allowed_roots(settings)
    files: list[SelectedFile] = []
    junk = 0
    from ..connectors.smb import is_smb_path
    for n, arg in enumerate(args, start=1):
        if is_smb_path(arg):
            raise RefusedError(f"argument {n} is on an SMB share; packages are made from local files",
                               hint="mount the share (or copy the files to an allowed folder) "
                                    "and package them from there")
        p = Path(os.path.abspath(os.path.expanduser(str(arg))))
        root = _root_of(p, roots)
        if root is None:
            raise PathOutsideRootsError(
                f"argument {n} is outside the folders dataward may package from",
                hint="allowed: " + ", ".join(str(r) for r in roots)
                     + " (transfer.allowed_roots in the config)")
        st = _check_no_link_below(root, p, n)
        if stat.S_ISREG(st.st_mode):
            refuse_hard_link(st, f"argument {n}")
            files.append(SelectedFile(str(p), _text_name(p.name), st.st_size, st.st_mtime, n))
        elif stat.S_ISDIR(st.st_mode):
            junk += _walk_folder(str(p), _text_name(p.name or "files"), n, files)
        else:
            raise PathOutsideRootsError(
                f"argument {n} is a special file (pipe, device or socket)",
                hint="select ordinary files and folders only")
    files = _unique(files)
    if not files:
        raise UsageError("nothing to package: the selected folders hold no files")
    return Selection(files, junk)
