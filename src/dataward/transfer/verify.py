"""``verify_package``: does the package open, and does every file match its manifest?

A password package is checked in two passes over the AES member: the first reads it to
the end so the HMAC is checked before anything inside is trusted; the second reads the
inner archive through the same decrypting stream (it seeks, so nothing is written out).
An OpenPGP package is decrypted in memory. Where the ledger knows the package, its
manifest hash and file hash are compared with the record too.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..connectors.filesystem import file_sha256
from ..errors import InputError, IntegrityError, NotFoundError, UsageError
from ..settings import Settings
from .create import PackageProgress, ProgressFn
from .inner import check_inner_zip, raise_for_problems
from .pgp import decrypt_pgp, gpg_for
from .store import PackageRecord, get_package, open_store
from .zipaes import check_password_zip


@dataclass(frozen=True)
class VerifyResult:
    path: Path
    kind: str                        # password | openpgp
    dataward: bool                   # has a dataward manifest
    package_id: str | None = None
    files_ok: int = 0
    total_size: int = 0
    manifest_sha256: str | None = None
    ledger: str = "unknown"          # match | unknown (not in this ledger)
    entries: int = 0                 # members checked (foreign zips)
    unencrypted_entries: int = 0
    notes: list[str] = field(default_factory=list)


def _looks_like_zip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def _looks_like_pgp(path: Path) -> bool:
    """An OpenPGP message starts with a public-key or passphrase session key packet
    (tag 1 or 3, old or new packet format), or is ASCII-armoured."""
    with open(path, "rb") as fh:
        head = fh.read(32)
    if head.lstrip().startswith(b"-----BEGIN PGP MESSAGE"):
        return True
    if not head:
        return False
    b = head[0]
    if b & 0xC0 == 0xC0:
        return b & 0x3F in (1, 3)
    return b & 0x80 == 0x80 and (b >> 2) & 0x0F in (1, 3)


def _ledger_check(settings: Settings, package_id: str,
                  manifest_sha: str) -> tuple[str, PackageRecord | None]:
    try:
        with open_store(settings) as ledger:
            rec = get_package(ledger, package_id)
    except NotFoundError:
        return "unknown", None
    if rec.manifest_sha256 != manifest_sha:
        raise IntegrityError(
            f"package {package_id}: its manifest differs from the one dataward recorded "
            "when it was made: the contents were replaced")
    return "match", rec


def verify_package(settings: Settings, path: Path, *, password: str | None = None,
                   progress: ProgressFn | None = None) -> VerifyResult:
    """Open ``path`` with ``password`` (zip) or the keyring (OpenPGP) and check it."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError("the package file does not exist")
    report = progress or (lambda _p: None)
    done = 0

    def on_bytes(n: int) -> None:
        nonlocal done
        done += n
        report(PackageProgress("checking", done, 0))

    file_sha = file_sha256(path)
    if _looks_like_zip(path):
        if not password:
            raise UsageError("a password package needs its password to be checked")
        zc = check_password_zip(path, password, on_bytes=on_bytes)
        if not zc.dataward:
            return VerifyResult(path, "password", False, entries=zc.entries,
                                unencrypted_entries=zc.unencrypted_entries, notes=zc.notes)
        assert zc.inner is not None
        check, kind = zc.inner, "password"
    elif _looks_like_pgp(path):
        data = decrypt_pgp(path, gpg_for(settings.transfer.gnupg_home))
        try:
            check = check_inner_zip(io.BytesIO(data), on_bytes=on_bytes)
        except zipfile.BadZipFile:
            raise InputError("the decrypted package is not a zip") from None
        kind = "openpgp"
    else:
        raise InputError("this is not a transfer package: neither a zip nor an OpenPGP file")
    raise_for_problems(check)
    m = check.manifest
    ledger, rec = _ledger_check(settings, m.package_id, check.manifest_sha256)
    notes = []
    if rec is not None and rec.package_sha256 != file_sha:
        notes.append("the contents match the ledger's record, but the file itself is not "
                     "byte-for-byte the one dataward wrote (re-packed?)")
    if ledger == "unknown":
        notes.append("this ledger has no record of the package (made elsewhere?)")
    return VerifyResult(path, kind, True, m.package_id, check.files_ok, m.total_size,
                        check.manifest_sha256, ledger, notes=notes)
