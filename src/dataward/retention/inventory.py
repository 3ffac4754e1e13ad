"""The image inventory: every image file under the image roots, with its people tags.

The walk never follows a symlink (a link is counted and left alone, wherever it points)
and never enters the quarantine folder. Tags come from the image's own metadata, read by
``classifiers/image_metadata`` (the reader the scan uses): EXIF (ImageDescription, XP
keywords/subject/title/comment, UserComment), XMP (Iptc4xmpExt:PersonInImage, dc:subject,
dc:title, dc:description, lr:hierarchicalSubject, MWG and Microsoft region names) and
IPTC IIM (keywords, caption, object name). Metadata that cannot be read is counted; the file is still
planned on its path.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..classifiers.image_metadata import Tag, image_tags, open_image
from ..errors import PathOutsideRootsError


@dataclass(frozen=True)
class ImageItem:
    root: Path
    rel: str  # path below the root, '/'-separated
    size: int
    mtime_ns: int
    tags: tuple[Tag, ...] = ()
    links: int = 1  # st_nlink: more than one means the bytes also live under another name

    @property
    def path(self) -> Path:
        return self.root / self.rel

    @property
    def locator(self) -> str:
        return self.path.as_uri()


@dataclass
class Inventory:
    roots: list[Path]
    items: list[ImageItem] = field(default_factory=list)
    symlinks_skipped: int = 0
    unreadable_tags: int = 0
    unreadable_dirs: int = 0


def check_root(root: Path) -> Path:
    """A configured image root as an absolute real folder. A root that is itself a
    symlink is refused: configure the folder it points to."""
    p = Path(os.path.abspath(root.expanduser()))
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        raise PathOutsideRootsError(f"the image root {p} does not exist",
                                    hint="check retention.image_roots in the config") from None
    if stat.S_ISLNK(st.st_mode):
        raise PathOutsideRootsError(f"the image root {p} is a symlink; dataward never follows "
                                    "symlinks", hint="configure the real folder instead")
    if not stat.S_ISDIR(st.st_mode):
        raise PathOutsideRootsError(f"the image root {p} is not a folder")
    return p.resolve()


def _walk(root: Path, skip_dir: str, inv: Inventory, exts: frozenset[str]
          ) -> Iterator[tuple[str, os.stat_result]]:
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            inv.unreadable_dirs += 1
            continue
        subdirs = []
        for e in entries:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            if e.is_symlink():
                inv.symlinks_skipped += 1
            elif e.is_dir(follow_symlinks=False):
                if not (rel_dir == "" and e.name == skip_dir):
                    subdirs.append(rel)
            elif e.is_file(follow_symlinks=False) and os.path.splitext(e.name)[1].lower() in exts:
                yield rel, e.stat(follow_symlinks=False)
        stack.extend(reversed(subdirs))


# A photographer or copyright holder is not in the picture: not a people tag here.
_NOT_PEOPLE = {"exif:Artist", "exif:Copyright", "exif:XPAuthor"}


def read_tags(path: Path) -> tuple[Tag, ...]:
    """People and keyword tags of one image (``classifiers/image_metadata``, the reader
    the scan uses). Opened without following a symlink. Raises OSError/ValueError/
    SyntaxError on damaged files (the caller counts them)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh, open_image(fh) as im:
        return tuple(t for t in image_tags(im) if t[0] not in _NOT_PEOPLE)


def build_inventory(roots: Iterable[Path], *, extensions: Iterable[str], quarantine_dirname: str,
                    read_metadata: bool = True,
                    progress: Callable[[int], None] | None = None) -> Inventory:
    """Walk every root (no symlinks followed) and read each image's tags."""
    checked = [check_root(r) for r in roots]
    inv = Inventory(roots=checked)
    exts = frozenset(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)
    for root in checked:
        for rel, st in _walk(root, quarantine_dirname, inv, exts):
            tags: tuple[Tag, ...] = ()
            if read_metadata:
                try:
                    tags = read_tags(root / rel)
                except Exception:  # noqa: BLE001 - any damaged image: count it, plan on its path
                    inv.unreadable_tags += 1
            inv.items.append(ImageItem(root, rel, st.st_size, st.st_mtime_ns, tags,
                                       st.st_nlink))
            if progress:
                progress(1)
    return inv
