"""The ledger table of transfer packages, and its three uses: record, confirm, list.

A row holds who, when, to whom, why, how (password or OpenPGP key fingerprint), counts,
sizes, hashes and the scan's entity counts: never a file name or a personal value.
Every change is also written to the hash-chained audit log in the same transaction.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from ..errors import NotFoundError, RefusedError, UsageError
from ..ledger import Ledger, utcnow
from ..schema import packages_table



@dataclass(frozen=True)
class PackageRecord:
    package_id: str
    created: str
    created_by: str
    recipient: str
    purpose: str
    method: str
    key_fingerprint: str | None
    file_name: str
    file_count: int
    total_size: int
    package_size: int
    manifest_sha256: str
    package_sha256: str
    scan_status: str
    entity_counts: dict[str, int]
    status: str
    confirmed: str | None
    confirmed_by: str | None

    @classmethod
    def from_row(cls, row: Any) -> PackageRecord:
        d = dict(row._mapping)
        d["entity_counts"] = json.loads(d["entity_counts"] or "{}") or {}
        return cls(**d)

    def age_days(self, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        return (now - datetime.fromisoformat(self.created)).days


def open_store(settings: Any) -> Ledger:
    from ..home import ensure_home
    ensure_home(settings)
    ledger = Ledger.for_settings(settings)
    ledger.ensure_schema()
    return ledger


def id_taken(ledger: Ledger, package_id: str) -> bool:
    with ledger.engine.connect() as conn:
        return conn.execute(select(packages_table.c.package_id).where(
            packages_table.c.package_id == package_id)).first() is not None


def record_package(ledger: Ledger, rec: PackageRecord) -> None:
    """Insert the row and its audit record in one transaction."""
    values = {**rec.__dict__, "entity_counts": json.dumps(rec.entity_counts, sort_keys=True)}
    with ledger.begin() as conn:
        conn.execute(insert(packages_table).values(**values))
        ledger.audit(
            "package.create", rec.package_id, actor=rec.created_by, conn=conn,
            to=rec.recipient, purpose=rec.purpose, method=rec.method,
            key_fingerprint=rec.key_fingerprint, file_count=rec.file_count,
            total_size=rec.total_size, package_size=rec.package_size,
            manifest_sha256=rec.manifest_sha256, package_sha256=rec.package_sha256,
            scan_status=rec.scan_status, entity_counts=rec.entity_counts)


def normalise_id(ref: str) -> str:
    """Accept the short id, or the package's file name (with or without folder)."""
    name = ref.strip().rsplit("/", 1)[-1]
    for suffix in (".gpg", ".zip"):
        name = name.removesuffix(suffix)
    return name.rsplit("-", 1)[-1].lower()


def get_package(ledger: Ledger, ref: str) -> PackageRecord:
    pid = normalise_id(ref)
    with ledger.engine.connect() as conn:
        row = conn.execute(select(packages_table).where(
            packages_table.c.package_id == pid)).first()
    if row is None:
        raise NotFoundError(f"no transfer package {pid!r} in the ledger",
                            hint="`dataward package list --all` shows them")
    return PackageRecord.from_row(row)


def confirm_package(ledger: Ledger, ref: str, by: str, *, actor: str | None = None,
                    note: str = "") -> PackageRecord:
    """Record the recipient's confirmation of safe receipt."""
    by = by.strip()
    if not by:
        raise UsageError("--by needs the name of the person who confirmed receipt")
    rec = get_package(ledger, ref)
    if rec.status == "confirmed":
        raise RefusedError(f"package {rec.package_id} was already confirmed on "
                           f"{(rec.confirmed or '')[:10]}")
    when = utcnow()
    with ledger.begin() as conn:
        conn.execute(update(packages_table)
                     .where(packages_table.c.package_id == rec.package_id)
                     .values(status="confirmed", confirmed=when, confirmed_by=by))
        ledger.audit("package.confirm", rec.package_id, actor=actor, conn=conn,
                     confirmed_by=by, note=note, days_after_sending=rec.age_days())
    return get_package(ledger, rec.package_id)


def list_packages(ledger: Ledger, *, older_than_days: int | None = None,
                  include_confirmed: bool = False) -> list[PackageRecord]:
    """Packages newest first; by default only those awaiting confirmation, and with
    ``older_than_days`` only those sent more than that many days ago."""
    q = select(packages_table).order_by(packages_table.c.created.desc())
    if not include_confirmed:
        q = q.where(packages_table.c.status == "awaiting")
    if older_than_days is not None:
        cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat(
            timespec="microseconds")
        q = q.where(packages_table.c.created < cutoff)
    with ledger.engine.connect() as conn:
        return [PackageRecord.from_row(r) for r in conn.execute(q)]
