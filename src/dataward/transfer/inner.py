"""The inner archive: a plain zip of the selected files plus the manifest, written as a
stream straight into the encryption layer, and read back to check a package.

It is never written to disk in the clear: the sink is the encrypted entry of the outer
zip, or the pipe into gpg. Files whose format is already compressed (photos, Office
files, archives) are stored, the rest deflated; every file is hashed as it is read, so
the manifest describes exactly the bytes that went in.
"""
from __future__ import annotations

import hashlib
import os
import stat
import time
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from ..errors import DatawardError, IntegrityError, InputError, PathOutsideRootsError
from .manifest import Manifest, ManifestFile, manifest_hash, parse_manifest
from .selection import MANIFEST_NAME, SelectedFile, refuse_hard_link

CHUNK = 1 << 20
SAMPLE = 64 << 10
# Formats that are compressed already: deflating them again only costs time.
COMPRESSED_SUFFIXES = frozenset("""
.jpg .jpeg .png .gif .heic .heif .webp .avif .mp3 .m4a .aac .ogg .opus .mp4 .m4v .mov .avi
.mkv .webm .wmv .zip .7z .rar .gz .tgz .bz2 .xz .zst .docx .xlsx .pptx .docm .xlsm .odt .ods
.odp .epub .jar .apk .cab .msi .gpg .pgp
""".split())

BytesFn = Callable[[int], None]


@dataclass(frozen=True)
class InnerResult:
    manifest: Manifest
    manifest_bytes: bytes
    manifest_sha256: str
    bytes_read: int


def _stored(f: SelectedFile, first: bytes) -> bool:
    suffix = "." + f.arcname.rsplit(".", 1)[-1].lower() if "." in f.arcname else ""
    if suffix in COMPRESSED_SUFFIXES:
        return True
    # Unknown format: if a fast deflate of the start gains under 3%, store it.
    return bool(first) and len(zlib.compress(first, 1)) > 0.97 * len(first)


def _zip_time(mtime: float) -> tuple[int, int, int, int, int, int]:
    t = time.localtime(max(mtime, 315532800))  # zip cannot hold dates before 1980
    return t[:6]


def _open_selected(f: SelectedFile, n: int) -> IO[bytes]:
    """Open a selected file as it was checked: not a symlink now (O_NOFOLLOW), still a
    regular file with one link (a file swapped or linked after selection is refused)."""
    try:
        fd = os.open(f.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise DatawardError(f"file {n} of the selection cannot be read: {exc.strerror}") from None
    src = os.fdopen(fd, "rb")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        src.close()
        raise PathOutsideRootsError(f"file {n} of the selection is no longer a regular file")
    try:
        refuse_hard_link(st, f"file {n} of the selection")
    except PathOutsideRootsError:
        src.close()
        raise
    return src


def write_inner_zip(sink: IO[bytes], files: list[SelectedFile], header: Mapping[str, Any],
                    *, level: int = 6, on_bytes: BytesFn | None = None) -> InnerResult:
    """Write the inner zip of ``files`` to ``sink`` (need not be seekable).

    ``header`` holds the manifest fields other than the file list."""
    entries: list[ManifestFile] = []
    total = 0
    with zipfile.ZipFile(sink, "w", allowZip64=True) as zf:
        for n, f in enumerate(files, start=1):
            src = _open_selected(f, n)
            with src:
                first = src.read(SAMPLE)
                info = zipfile.ZipInfo(f.arcname, date_time=_zip_time(f.mtime))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_STORED if _stored(f, first) else zipfile.ZIP_DEFLATED
                info._compresslevel = level  # type: ignore[attr-defined]  # no public setter before 3.13
                info.file_size = f.size  # lets zipfile choose ZIP64 for very large files
                h = hashlib.sha256()
                size = 0
                with zf.open(info, "w", force_zip64=f.size > (1 << 31)) as w:
                    chunk = first
                    while chunk:
                        h.update(chunk)
                        w.write(chunk)
                        size += len(chunk)
                        if on_bytes:
                            on_bytes(len(chunk))
                        chunk = src.read(CHUNK)
            entries.append(ManifestFile(name=f.arcname, size=size, sha256=h.hexdigest()))
            total += size
        manifest = Manifest(**header, files=entries, file_count=len(entries),
                            total_size=total)
        data = manifest.to_bytes()
        zf.writestr(zipfile.ZipInfo(MANIFEST_NAME, date_time=time.localtime()[:6]), data,
                    compress_type=zipfile.ZIP_DEFLATED)
    return InnerResult(manifest, data, manifest_hash(data), total)


@dataclass(frozen=True)
class InnerCheck:
    manifest: Manifest
    manifest_sha256: str
    files_ok: int
    problems: list[str]


def check_inner_zip(fileobj: IO[bytes], *, on_bytes: BytesFn | None = None) -> InnerCheck:
    """Read the inner zip: every file must match the manifest, and nothing extra.

    Problems name files by their position in the manifest, never by name."""
    try:
        zf = zipfile.ZipFile(fileobj)
    except zipfile.BadZipFile:
        raise InputError("the package's inner archive is not a readable zip") from None
    with zf:
        try:
            data = zf.read(MANIFEST_NAME)
        except KeyError:
            raise InputError("the package holds no dataward manifest") from None
        manifest = parse_manifest(data)
        members = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        members.pop(MANIFEST_NAME, None)
        problems: list[str] = []
        ok = 0
        for n, entry in enumerate(manifest.files, start=1):
            info = members.pop(entry.name, None)
            if info is None:
                problems.append(f"file {n} of the manifest is missing from the package")
                continue
            h = hashlib.sha256()
            size = 0
            try:
                with zf.open(info) as r:
                    while chunk := r.read(CHUNK):
                        h.update(chunk)
                        size += len(chunk)
                        if on_bytes:
                            on_bytes(len(chunk))
            except (zipfile.BadZipFile, zlib.error, EOFError):
                problems.append(f"file {n} of the manifest is damaged inside the package")
                continue
            if size != entry.size or h.hexdigest() != entry.sha256:
                problems.append(f"file {n} of the manifest does not match its SHA-256")
            else:
                ok += 1
        if members:
            problems.append(f"{len(members)} file(s) in the package are not in the manifest")
    return InnerCheck(manifest, manifest_hash(data), ok, problems)


def raise_for_problems(check: InnerCheck) -> None:
    if check.problems:
        raise IntegrityError("the package does not match its manifest: "
                             + "; ".join(check.problems[:5])
                             + (f" (and {len(check.problems) - 5} more)"
                                if len(check.problems) > 5 else ""))
