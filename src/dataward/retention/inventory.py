"""The image inventory: every image file under the image roots, with its people tags.

The walk never follows a symlink (a link is counted and left alone, wherever it points)
and never enters the quarantine folder. Tags come from the image's own metadata:
EXIF (ImageDescription, XPKeywords, XPSubject, XPTitle, XPComment, UserComment),
XMP (Iptc4xmpExt:PersonInImage, dc:subject, dc:title, dc:description,
lr:hierarchicalSubject, MWG and Microsoft region names) and IPTC IIM (keywords,
caption, object name). Metadata that cannot be read is counted; the file is still
planned on its path.
"""
from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PathOutsideRootsError

Tag = tuple[str, str]  # (where it came from, e.g. "xmp:PersonInImage", the text)

_EXIF_TEXT = {0x010E: "exif:ImageDescription", 0x9C9B: "exif:XPTitle", 0x9C9C: "exif:XPComment",
              0x9C9E: "exif:XPKeywords", 0x9C9F: "exif:XPSubject"}
_EXIF_IFD, _USER_COMMENT = 0x8769, 0x9286
_XMP_ELEMENTS = {"PersonInImage", "subject", "hierarchicalSubject", "title", "description",
                 "Name", "PersonDisplayName", "Keywords"}
_XMP_ATTRS = {"Name", "PersonDisplayName", "PersonInImage"}
_IPTC = {(2, 25): "iptc:Keywords", (2, 120): "iptc:Caption", (2, 5): "iptc:ObjectName"}
MAX_XMP_BYTES = 1 << 20


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


def _text(value: object) -> str:
    if isinstance(value, tuple):  # Pillow gives XP* tags as a tuple of byte values at times
        value = bytes(value)
    if isinstance(value, bytes):
        if len(value) >= 2 and value[1:2] == b"\x00":
            return value.decode("utf-16-le", errors="ignore").rstrip("\x00")
        try:
            return value.decode("utf-8").rstrip("\x00")
        except UnicodeDecodeError:
            return value.decode("cp1252", errors="ignore").rstrip("\x00")
    return str(value).rstrip("\x00")


def _user_comment(raw: object) -> str:
    if not isinstance(raw, bytes):
        return _text(raw)
    head, body = raw[:8], raw[8:]
    if head.startswith(b"UNICODE"):
        enc = "utf-16-be" if body[:1] == b"\x00" else "utf-16-le"
        return body.decode(enc, errors="ignore").rstrip("\x00")
    return _text(body if head.startswith((b"ASCII", b"\x00\x00")) else raw)


def xmp_tags(xmp: bytes | str) -> list[Tag]:
    data = xmp.encode("utf-8", "ignore") if isinstance(xmp, str) else xmp
    if len(data) > MAX_XMP_BYTES:
        return []
    start, end = data.find(b"<x:xmpmeta"), data.rfind(b"</x:xmpmeta>")
    if start >= 0 and end > start:
        data = data[start:end + len(b"</x:xmpmeta>")]
    root = ET.fromstring(data.strip(b"\x00 \r\n\t"))
    found: list[Tag] = []
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        for key, val in el.attrib.items():
            if key.rsplit("}", 1)[-1] in _XMP_ATTRS and val.strip():
                found.append((f"xmp:{key.rsplit('}', 1)[-1]}", val.strip()))
        if local in _XMP_ELEMENTS:
            texts = [t.strip() for t in el.itertext() if t.strip()]
            found.extend((f"xmp:{local}", t) for t in texts)
    return found


def _iptc_tags(im: object) -> list[Tag]:
    from PIL import IptcImagePlugin
    info = IptcImagePlugin.getiptcinfo(im) or {}
    found: list[Tag] = []
    for key, name in _IPTC.items():
        values = info.get(key)
        if values is None:
            continue
        for v in values if isinstance(values, list) else [values]:
            found.append((name, _text(v)))
    return found


def read_tags(path: Path) -> tuple[Tag, ...]:
    """People and keyword tags of one image. Opened without following a symlink.
    Raises OSError/ValueError/SyntaxError on damaged files (the caller counts them)."""
    from PIL import Image
    _register_heif()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh, Image.open(fh) as im:
        tags: list[Tag] = []
        exif = im.getexif()
        for code, name in _EXIF_TEXT.items():
            if code in exif:
                tags.append((name, _text(exif[code])))
        sub = exif.get_ifd(_EXIF_IFD)
        if _USER_COMMENT in sub:
            tags.append(("exif:UserComment", _user_comment(sub[_USER_COMMENT])))
        xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
        if xmp:
            tags.extend(xmp_tags(xmp))
        if im.format in ("JPEG", "TIFF"):
            tags.extend(_iptc_tags(im))
    return tuple((src, t) for src, t in tags if t.strip())


_heif_done = False


def _register_heif() -> None:
    global _heif_done
    if not _heif_done:
        _heif_done = True
        try:
            from pillow_heif import register_heif_opener
            register_heif_opener()
        except ImportError:  # HEIC images are then planned on their paths only
            pass


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
