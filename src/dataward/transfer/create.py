"""``create_package``: select, scan, encrypt, check the size limit, record.

Nothing in the clear touches the disk: the inner archive streams from the source files
into the encryption layer, which writes ``.transfer-....part`` in the output folder;
on any failure or Ctrl-C that file is removed and nothing is recorded. ``kill -9``
cannot be caught: every run holds a shared ``flock`` on the output folder while it
writes, and a run that finds no other holder removes the ``.part`` files killed runs
left there before it starts. Only when the
package is complete, within its size limit and renamed into place does the ledger get
its row (and the audit log its record) in one transaction.
"""
from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ..connectors.filesystem import file_sha256
from ..errors import NotFoundError, RefusedError, UsageError
from ..ledger import current_user, utcnow
from ..settings import Settings
from .inner import InnerResult, write_inner_zip
from .passphrase import check_password, generate_passphrase, passphrase_bits
from .pgp import RecipientKey, gpg_for, resolve_recipient, write_pgp
from .screening import ScanSummary, scan_selection
from .selection import SelectedFile, Selection, select_files
from .store import PackageRecord, id_taken, open_store, record_package
from .zipaes import write_password_zip

MB = 1024 * 1024


@dataclass(frozen=True)
class PackageProgress:
    stage: str       # selecting | scanning | packaging | checking | recording
    done: int        # bytes (packaging) or steps
    total: int


ProgressFn = Callable[[PackageProgress], None]


@dataclass(frozen=True)
class PasswordMethod:
    """WinZip AES-256. ``password=None``: dataward generates a passphrase."""

    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PgpMethod:
    recipient: str               # fingerprint or e-mail in the school's keyring
    hidden: bool | None = None   # None: transfer.hide_recipient


@dataclass(frozen=True)
class PackageResult:
    package_id: str
    path: Path
    method: str
    file_count: int
    total_size: int
    package_size: int
    manifest_sha256: str
    package_sha256: str
    scan: ScanSummary
    skipped_junk: int = 0
    recipient_key: RecipientKey | None = None
    # The generated passphrase, to be shown once and forgotten. Never logged or stored.
    generated_password: str | None = field(default=None, repr=False)
    password_bits: float = 0.0


def _new_id(settings: Settings) -> str:
    with open_store(settings) as ledger:
        for _ in range(20):
            pid = secrets.token_hex(4)
            if not id_taken(ledger, pid):
                return pid
    raise RefusedError("could not find a free package id")  # pragma: no cover


PART_GLOB = ".transfer-*.part"


@contextmanager
def _claimed(out_dir: Path) -> Iterator[None]:
    """Hold a shared lock on the output folder for this run; when no other run holds
    it, first remove the encrypted ``.part`` files of runs that were killed there (a
    ``.part`` is never a finished package)."""
    fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pass  # another run is writing here: its .part is not litter
    else:
        for part in out_dir.glob(PART_GLOB):
            if part.is_file() and not part.is_symlink():
                part.unlink(missing_ok=True)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _early_limit_check(sel: Selection, limit_mb: float) -> None:
    """Formats that are stored as they are set a floor on the package size: refuse
    before reading anything when that floor is already over the limit."""
    from .inner import COMPRESSED_SUFFIXES
    floor = sum(f.size for f in sel.files
                if "." + f.arcname.rsplit(".", 1)[-1].lower() in COMPRESSED_SUFFIXES)
    if floor > limit_mb * MB:
        raise RefusedError(_over_limit(floor, limit_mb))


def _over_limit(size: int, limit_mb: float) -> str:
    return (f"the package would be {size / MB:.1f} MB, over the recipient's limit of "
            f"{limit_mb:g} MB; split the files into several packages")


def create_package(settings: Settings, paths: list[Path | str], *, recipient: str,
                   method: PasswordMethod | PgpMethod, purpose: str = "",
                   out_dir: Path | None = None, actor: str | None = None,
                   progress: ProgressFn | None = None,
                   extra_files: list[SelectedFile] | None = None) -> PackageResult:
    """Make one encrypted transfer package of ``paths`` for ``recipient``.

    ``extra_files`` are dataward's own outputs (a subject access request's index) added
    after the selection's files, as they are: they are not under the share roots."""
    cfg = settings.transfer
    recipient = recipient.strip()
    if not recipient:
        raise UsageError("--to needs the name of the recipient organisation")
    out_dir = Path(out_dir or Path.cwd())
    if not out_dir.is_dir():
        raise NotFoundError("the output folder (--out) does not exist")
    report = progress or (lambda _p: None)

    report(PackageProgress("selecting", 0, 1))
    # A subject access export may hold only messages taken out of mailboxes (extras).
    sel = select_files(list(paths), settings) if paths or not extra_files else Selection([], 0)
    if extra_files:
        sel = Selection(sel.files + list(extra_files), sel.skipped_junk)
    limit_mb = cfg.limit_mb_for(recipient)
    _early_limit_check(sel, limit_mb)

    # Check the key or password before spending time on the scan.
    password: str | None = None
    generated = False
    bits = 0.0
    key: RecipientKey | None = None
    gpg = None
    if isinstance(method, PasswordMethod):
        if method.password is None:
            password, generated = generate_passphrase(cfg.passphrase_words), True
            bits = passphrase_bits(cfg.passphrase_words)
        else:
            bits = check_password(method.password, cfg.min_password_bits,
                                  [settings.school.name, *settings.school.domains,
                                   recipient, purpose])
            password = method.password
        kind = "password"
    else:
        gpg = gpg_for(cfg.gnupg_home)
        key = resolve_recipient(gpg, method.recipient)
        kind = "openpgp"

    report(PackageProgress("scanning", 0, len(sel.files)))
    scan = scan_selection([Path(f.path) for f in sel.files], settings)
    report(PackageProgress("scanning", len(sel.files), len(sel.files)))

    with _claimed(out_dir):
        pid = _new_id(settings)
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        final = out_dir / (f"transfer-{stamp}-{pid}.zip" + (".gpg" if kind == "openpgp" else ""))
        part = out_dir / f".{final.name}.part"
        created = utcnow()
        header = {"package_id": pid, "created": created, "school": settings.school.name,
                  "to": recipient, "purpose": purpose.strip(), "method": kind,
                  "entity_counts": scan.entity_counts if scan.status == "scanned" else None}
        total = sel.total_size
        done = 0

        def on_bytes(n: int) -> None:
            nonlocal done
            done += n
            report(PackageProgress("packaging", done, total))

        def build(sink: IO[bytes]) -> InnerResult:
            return write_inner_zip(sink, sel.files, header, level=cfg.compress_level,
                                   on_bytes=on_bytes)

        try:
            report(PackageProgress("packaging", 0, total))
            if password is not None:
                inner = write_password_zip(part, password, total, build)
            else:
                assert key is not None and isinstance(method, PgpMethod)
                hidden = cfg.hide_recipient if method.hidden is None else method.hidden
                inner = write_pgp(part, gpg, key, hidden=hidden, build=build)
            os.chmod(part, 0o600)
            size = part.stat().st_size
            if size > limit_mb * MB:
                raise RefusedError(_over_limit(size, limit_mb))
            report(PackageProgress("checking", 0, 1))
            package_sha = file_sha256(part)
            if final.exists():
                raise RefusedError("a package with that file name already exists")  # pragma: no cover
            os.rename(part, final)
        except BaseException:
            part.unlink(missing_ok=True)
            raise

        report(PackageProgress("recording", 0, 1))
        rec = PackageRecord(
            package_id=pid, created=created, created_by=actor or current_user(),
            recipient=recipient, purpose=purpose.strip(), method=kind,
            key_fingerprint=key.fingerprint if key else None, file_name=final.name,
            file_count=inner.manifest.file_count, total_size=inner.bytes_read,
            package_size=size, manifest_sha256=inner.manifest_sha256,
            package_sha256=package_sha, scan_status=scan.status,
            entity_counts=scan.entity_counts, status="awaiting", confirmed=None,
            confirmed_by=None)
        try:
            with open_store(settings) as ledger:
                record_package(ledger, rec)
        except BaseException:
            final.unlink(missing_ok=True)  # an unrecorded package must not go out
            raise
        return PackageResult(pid, final, kind, rec.file_count, rec.total_size, size,
                             rec.manifest_sha256, package_sha, scan, sel.skipped_junk, key,
                             password if generated else None, bits)
