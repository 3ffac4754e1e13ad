"""The evidence store: erasure logs, vendor certificates, PAT certificates, receipts.

Each file is copied into ``<home>/assets/evidence/<sha256>`` (0600, content-addressed,
so the same file stored twice is kept once) and recorded in the ledger with its
SHA-256 and, for nwipe logs, the parsed wipe results.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from ..errors import InputError
from ..ledger import utcnow
from .models import squash
from .nwipe import DriveWipe, NwipeLog, looks_like_nwipe, parse_nwipe_log
from .tables import evidence_table

EvidenceKind = Literal["nwipe-log", "pdf", "other"]
EvidenceRole = Literal["erasure", "destruction", "pat", "receipt"]


@dataclass(frozen=True)
class Evidence:
    """One evidence file, read and hashed; ``wipe`` is set for nwipe logs."""

    source: Path
    file_name: str
    sha256: str
    size: int
    kind: EvidenceKind
    role: EvidenceRole
    wipe: NwipeLog | None = None

    def summary(self) -> dict[str, object]:
        return self.wipe.to_dict() if self.wipe else {}

    def drives_for(self, storage_serials: tuple[str, ...]) -> list[DriveWipe]:
        """The drives of this wipe log that belong to an asset with these drive serials.

        nwipe often wipes several drives at once, so one log may cover other assets
        too. Drives with a readable serial count only when it is one of the asset's;
        drives whose serial cannot be read are always counted (they cannot be ruled
        out). With no serials to compare, every drive counts.
        """
        if self.wipe is None:
            return []
        wanted = {squash(s) for s in storage_serials}
        if not wanted:
            return list(self.wipe.drives)
        return [d for d in self.wipe.drives
                if d.serial_state != "ok" or squash(d.serial) in wanted]

    def wipe_passed_for(self, storage_serials: tuple[str, ...]) -> bool:
        """Every drive of this asset in the log was erased, and nwipe was not aborted
        or cut off (another drive's failure in the same run does not count)."""
        drives = self.drives_for(storage_serials)
        return (self.wipe is not None and bool(drives) and all(d.passed for d in drives)
                and self.wipe.outcome in ("completed", "errors"))


def evidence_dir(home: Path) -> Path:
    return home / "assets" / "evidence"


def read_evidence(path: Path, role: EvidenceRole, *, max_mb: float) -> Evidence:
    """Read, hash and classify one evidence file (nothing is stored yet)."""
    if path.is_symlink():
        raise InputError(f"evidence {path.name} is a symbolic link; pass the file itself")
    try:
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            raise InputError(f"evidence {path.name} is larger than {max_mb:g} MB "
                             "(assets.evidence_max_mb)")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read evidence {path}: {exc.strerror}") from None
    if not data:
        raise InputError(f"evidence {path.name} is empty")
    digest = hashlib.sha256(data).hexdigest()
    wipe = None
    kind: EvidenceKind = "other"
    if data.startswith(b"%PDF-"):
        kind = "pdf"
    elif looks_like_nwipe(data):
        try:
            wipe = parse_nwipe_log(data)
            kind = "nwipe-log"
        except ValueError:
            kind = "other"
    return Evidence(source=path, file_name=path.name, sha256=digest, size=len(data),
                    kind=kind, role=role, wipe=wipe)


def store_evidence(conn: Connection, home: Path, ev: Evidence) -> Path:
    """Copy the file into the state folder (once per content) and record it."""
    folder = evidence_dir(home)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder / ev.sha256
    if not target.exists():
        data = ev.source.read_bytes()
        if hashlib.sha256(data).hexdigest() != ev.sha256:
            raise InputError(f"evidence {ev.file_name} changed while it was being recorded")
        tmp = folder / f".{ev.sha256}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    known = conn.execute(select(evidence_table.c.sha256).where(
        evidence_table.c.sha256 == ev.sha256)).first()
    if known is None:
        conn.execute(insert(evidence_table).values(
            sha256=ev.sha256, kind=ev.kind, size=ev.size, file_name=ev.file_name,
            stored_path=str(target), added=utcnow(), summary=json.dumps(ev.summary())))
    return target
