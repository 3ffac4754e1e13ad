"""The password layer: a WinZip AES-256 (AE-2) zip holding one stored member, the inner
archive, written with pyzipper; and the reader that checks a password package.

Why one inner archive: a zip's directory lists member names in the clear even when the
members are AES-encrypted, and file names on a school share name pupils. The outer zip
therefore holds a single member, ``contents.zip``, whose bytes (names included) are all
under the AES layer. It is stored, not deflated: the inner archive is compressed already.

The reader also checks zips that dataward did not make (another school's package): every
member must open with the password and pass its HMAC (and CRC for AE-1).
"""
from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from ..errors import InputError, IntegrityError, RefusedError, WrongKeyError
from .inner import CHUNK, BytesFn, InnerCheck, check_inner_zip

if TYPE_CHECKING:
    import pyzipper

INNER_NAME = "contents.zip"
T = TypeVar("T")


def write_password_zip(part: Path, password: str, size_hint: int,
                       build: Callable[[IO[bytes]], T]) -> T:
    """Create ``part`` as an AES-256 zip and let ``build`` stream the inner archive
    into its one member. ``size_hint`` (the plaintext total) picks ZIP64 when needed."""
    import pyzipper

    with pyzipper.AESZipFile(part, "x", compression=pyzipper.ZIP_STORED,
                             encryption=pyzipper.WZ_AES,
                             encryption_kwargs={"nbits": 256}) as oz:
        oz.setpassword(password.encode("utf-8"))
        info = oz.zipinfo_cls(INNER_NAME, date_time=time.localtime()[:6])
        info.compress_type = pyzipper.ZIP_STORED
        info.external_attr = 0o600 << 16
        # Room for zip headers and the manifest on top of the files themselves.
        info.file_size = size_hint + (1 << 20)
        with oz.open(info, "w") as member:
            return build(member)


@dataclass
class ZipCheck:
    """What reading a password package found."""

    dataward: bool                      # one inner archive with a dataward manifest
    inner: InnerCheck | None = None     # set when dataward
    entries: int = 0                    # members read (foreign zips)
    aes_entries: int = 0
    unencrypted_entries: int = 0
    notes: list[str] = field(default_factory=list)


def _map_errors(exc: BaseException) -> BaseException:
    text = str(exc)
    if isinstance(exc, RuntimeError) and "password" in text.lower():
        return WrongKeyError("the password does not open this package",
                             hint="check it with the person who sent it; it is case-sensitive")
    if "HMAC" in text:
        return IntegrityError(
            "the package failed its authentication check (AES HMAC): it was altered or "
            "damaged after it was made; do not use it, ask the sender for a new copy")
    if "CRC" in text:
        return IntegrityError("a member of the package failed its CRC check: it is damaged")
    if isinstance(exc, NotImplementedError):
        return RefusedError("the package uses an encryption dataward cannot open "
                            "(PKWARE strong encryption)",
                            hint="ask the sender for a WinZip-AES zip or an OpenPGP file")
    return InputError("the package is damaged or not a zip dataward can read")


def check_password_zip(path: Path, password: str, *, on_bytes: BytesFn | None = None) -> ZipCheck:
    import pyzipper

    pwd = password.encode("utf-8")
    try:
        oz = pyzipper.AESZipFile(path)
    except (zipfile.BadZipFile, pyzipper.BadZipFile, OSError, ValueError):
        raise InputError("the package is damaged or not a zip dataward can read "
                         "(its directory may itself be encrypted)") from None
    with oz:
        infos = [i for i in oz.infolist() if not i.is_dir()]
        if not infos:
            raise InputError("the package is an empty zip")
        try:
            if (len(infos) == 1 and infos[0].filename == INNER_NAME
                    and getattr(infos[0], "wz_aes_version", None)):
                with oz.open(infos[0], pwd=pwd) as member:
                    # Reading to the end first checks the HMAC before anything inside
                    # is trusted; the inner reader then seeks back and forth.
                    while member.read(CHUNK):
                        pass
                    member.seek(0)
                    inner = check_inner_zip(member, on_bytes=on_bytes)
                return ZipCheck(True, inner, entries=1, aes_entries=1)
            return _check_foreign(oz, infos, pwd, on_bytes)
        except (WrongKeyError, IntegrityError, RefusedError, InputError):
            raise
        except (RuntimeError, NotImplementedError, zipfile.BadZipFile, pyzipper.BadZipFile,
                EOFError, ValueError) as exc:
            raise _map_errors(exc) from None


def _check_foreign(oz: pyzipper.AESZipFile, infos: list[zipfile.ZipInfo], pwd: bytes,
                   on_bytes: BytesFn | None) -> ZipCheck:
    check = ZipCheck(False)
    for n, info in enumerate(infos, start=1):
        encrypted = bool(info.flag_bits & 0x1)
        if encrypted and not getattr(info, "wz_aes_version", None):
            if info.flag_bits & 0x40:
                raise _map_errors(NotImplementedError())
            raise RefusedError(
                f"member {n} uses ZipCrypto, the legacy zip encryption that is easily "
                "broken; dataward does not accept it",
                hint="ask the sender for an AES-256 zip (7-Zip: -mem=AES256) or OpenPGP")
        with oz.open(info, pwd=pwd if encrypted else None) as r:
            while chunk := r.read(CHUNK):
                if on_bytes:
                    on_bytes(len(chunk))
        check.entries += 1
        if encrypted:
            check.aes_entries += 1
        else:
            check.unencrypted_entries += 1
    check.notes.append("not a dataward package: no manifest, so contents were checked only "
                       "against each member's MAC")
    if check.unencrypted_entries:
        check.notes.append(f"{check.unencrypted_entries} member(s) are NOT encrypted")
    return check
