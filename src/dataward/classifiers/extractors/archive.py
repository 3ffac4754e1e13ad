"""Zip archives (and a look at 7-Zip ones): members become items of their own.

Members are read into memory and handed back as ``children``; nothing is ever written to
disk, so a member called ``../../etc/passwd`` is only a name. Encrypted members are items
with status ``encrypted`` and are not read. Zip bombs stop at a cap:

- a member whose declared size is more than ``MAX_RATIO`` times its compressed size (and
  over ``RATIO_FLOOR`` bytes) is not expanded;
- at most ``MAX_MEMBERS`` members and ``MAX_EXPANDED`` bytes are read for one item on the
  share, however deep its archives nest (the budget is shared by every archive inside it;
  ``reset_budget()`` starts a new one; scan_item calls it for each file);
- a member is never read past its declared size.

An archive where a cap stopped the expansion gets status ``skipped`` and the reason; the
members read before the cap are items as usual, those not read are ``skipped``.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

from .base import EncryptedItem, Extracted, Member, TextBuilder, UnsupportedFormat

MiB = 1024 * 1024
# Every reason a cap gives starts with this (scan_item marks the enclosing files skipped).
CAP_PREFIX = "zip bomb guard"
MAX_MEMBERS = 10_000
MAX_EXPANDED = 256 * MiB
MAX_RATIO = 200
RATIO_FLOOR = 1 * MiB
_READ_CHUNK = 1 * MiB
_SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_AES_METHOD = 99
_AES_BITS = {1: 128, 2: 192, 3: 256}


class _Budget:
    def __init__(self) -> None:
        self.members = 0
        self.bytes = 0


_budget = _Budget()


def reset_budget() -> None:
    """Start a new expansion budget (one per item on the share)."""
    global _budget
    _budget = _Budget()


def _aes_bits(extra: bytes) -> int | None:
    """Key size from the WinZip AES extra field (0x9901), if present."""
    i = 0
    while i + 4 <= len(extra):
        hid, size = struct.unpack_from("<HH", extra, i)
        if hid == 0x9901 and size >= 7:
            return _AES_BITS.get(extra[i + 8])
        i += 4 + size
    return None


def encryption_kind(info: zipfile.ZipInfo) -> str | None:
    if not info.flag_bits & 0x1:
        return None
    if info.compress_type == _AES_METHOD:
        bits = _aes_bits(info.extra)
        return f"AES-{bits}" if bits else "AES"
    if info.flag_bits & 0x40:
        return "PKWARE strong encryption"
    return "ZipCrypto (legacy, weak)"


def _skip(info: zipfile.ZipInfo, reason: str, status: str = "skipped") -> Member:
    return Member(info.filename, None, status=status, error=reason, size=info.file_size,
                  mtime_ns=_mtime_ns(info))


def _mtime_ns(info: zipfile.ZipInfo) -> int:
    import calendar
    try:
        y, mo, d, h, mi, s = info.date_time
        return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1_000_000_000
    except (ValueError, OverflowError):
        return 0


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, never more than its declared size."""
    out = bytearray()
    with zf.open(info) as fh:
        while len(out) <= info.file_size:
            chunk = fh.read(min(_READ_CHUNK, info.file_size + 1 - len(out)))
            if not chunk:
                break
            out += chunk
    if len(out) > info.file_size:
        raise ValueError("member expands beyond its declared size")
    return bytes(out)


def _lies_about_size(archive: bytes, info: zipfile.ZipInfo) -> bool:
    """A deflated member whose data inflates past its declared size. zipfile stops at the
    declared size and reports a bad CRC, which looks like damage; it is a bomb's trick
    (a small declared size gets a member past the ratio and expansion caps)."""
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return False
    try:
        if archive[info.header_offset:info.header_offset + 4] != b"PK\x03\x04":
            return False
        name_len, extra_len = struct.unpack_from("<HH", archive, info.header_offset + 26)
        start = info.header_offset + 30 + name_len + extra_len
        raw = archive[start:start + info.compress_size]
        out = zlib.decompressobj(-15).decompress(raw, info.file_size + 1)
    except (struct.error, zlib.error):
        return False
    return len(out) > info.file_size


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, caps: list[str],
            archive: bytes = b"") -> Member:
    kind = encryption_kind(info)
    if kind:
        return _skip(info, f"{kind} encrypted zip member", status="encrypted")
    if info.compress_type not in _SUPPORTED_METHODS:
        return _skip(info, f"compression method {info.compress_type} not supported",
                     status="unsupported")
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
        ratio = info.file_size // max(1, info.compress_size)
        reason = (f"zip bomb guard: compression ratio {ratio}:1 is over the "
                  f"{MAX_RATIO}:1 cap; not expanded")
        caps.append(reason)
        return _skip(info, reason)
    if _budget.bytes + info.file_size > MAX_EXPANDED:
        reason = f"zip bomb guard: the {MAX_EXPANDED // MiB} MB expansion cap was reached; not expanded"
        caps.append(reason)
        return _skip(info, reason)
    _budget.bytes += info.file_size
    try:
        data = _read(zf, info)
    except ValueError as exc:
        caps.append("zip bomb guard: a member expands beyond its declared size")
        return _skip(info, f"zip bomb guard: {exc}")
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, LookupError) as exc:
        if _lies_about_size(archive, info):
            reason = "zip bomb guard: a member expands beyond its declared size"
            caps.append(reason)
            return _skip(info, reason)
        return _skip(info, f"corrupt zip member ({type(exc).__name__})", status="error")
    return Member(info.filename, data, size=info.file_size, mtime_ns=_mtime_ns(info))


def _encrypted_directory(data: bytes) -> bool:
    """PKWARE central-directory encryption: the first local header says so (bits 0 and 13)."""
    if not data.startswith(b"PK\x03\x04") or len(data) < 8:
        return False
    flags = struct.unpack_from("<H", data, 6)[0]
    return bool(flags & 0x1) and bool(flags & 0x2000)


def extract_zip(data: bytes) -> Extracted:
    if _encrypted_directory(data):
        raise EncryptedItem("zip with an encrypted central directory (PKWARE strong encryption)")
    zf = zipfile.ZipFile(io.BytesIO(data))
    builder = TextBuilder()
    children: list[Member] = []
    caps: list[str] = []
    files = [i for i in zf.infolist() if not i.is_dir()]
    for n, info in enumerate(files):
        if _budget.members >= MAX_MEMBERS:
            caps.append(f"zip bomb guard: more than {MAX_MEMBERS} members; "
                        f"{len(files) - n} not listed")
            break
        _budget.members += 1
        # Member names are text of the archive: a pupil's name in one is a finding here.
        builder.add(info.filename, "member names")
        children.append(_member(zf, info, caps, data))
    doc = builder.build()
    doc.children = children
    if caps:
        read = sum(1 for c in children if c.data is not None)
        doc.status = "skipped"
        doc.reason = f"{caps[0]} ({read} of {len(files)} members read)"
    return doc


# 7-Zip's AES-256 + SHA-256 coder id, found in an encrypted archive's (encoded) header.
_7Z_AES = b"\x06\xf1\x07\x01"


def extract_7z(data: bytes) -> Extracted:
    if _7Z_AES in data[-65536:] or _7Z_AES in data[:65536]:
        raise EncryptedItem("7-Zip archive with AES-256 encryption")
    raise UnsupportedFormat("7z")
