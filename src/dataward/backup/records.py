"""What the ledger keeps about backups: snapshots taken and restore tests run.

Rows hold ids, counts and hashes only; file names stay inside the encrypted snapshot.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Row, Table, insert, select

from ..ledger import Ledger, utcnow
from ..schema import backup_restore_tests, backup_snapshots


@dataclass(frozen=True)
class RestoreTestRecord:
    time: str
    target: str
    snapshot_id: str
    status: str
    files_checked: int
    files_matched: int
    files_failed: int
    bytes: int


def record_snapshot(ledger: Ledger, result: Any) -> None:
    ledger.ensure_schema()
    status = "partial" if result.errors else "complete"
    with ledger.begin() as conn:
        conn.execute(insert(backup_snapshots).values(
            snapshot_id=result.snapshot_id, target=result.target, time=utcnow(), status=status,
            files=result.files, bytes=result.bytes, bytes_new=result.bytes_new,
            bytes_uploaded=result.bytes_uploaded, errors=result.errors,
            seconds=int(result.seconds), school_id=ledger.school_id))
        ledger.audit("backup.run", result.target, conn=conn, snapshot=result.snapshot_id,
                     status=status, files=result.files, bytes=result.bytes,
                     bytes_new=result.bytes_new, errors=result.errors)


def record_restore_test(ledger: Ledger, rec: RestoreTestRecord, detail: str = "") -> None:
    ledger.ensure_schema()
    with ledger.begin() as conn:
        conn.execute(insert(backup_restore_tests).values(
            time=rec.time, target=rec.target, snapshot_id=rec.snapshot_id, status=rec.status,
            files_checked=rec.files_checked, files_matched=rec.files_matched,
            files_failed=rec.files_failed, bytes=rec.bytes, detail=detail,
            school_id=ledger.school_id))
        ledger.audit("backup.restore_test", rec.target, conn=conn, snapshot=rec.snapshot_id,
                     status=rec.status, checked=rec.files_checked, matched=rec.files_matched,
                     failed=rec.files_failed)


def _newest(ledger: Ledger, table: Table, order: Column[Any]) -> Row[Any] | None:
    """The newest row of ``table`` (by ``order``) among this school's rows."""
    with ledger.engine.connect() as conn:
        return conn.execute(select(table).where(table.c.school_id == ledger.school_id)
                            .order_by(order.desc()).limit(1)).first()


def last_restore_test(ledger: Ledger) -> RestoreTestRecord | None:
    """The newest restore test (for the DPO report)."""
    ledger.ensure_schema()
    row = _newest(ledger, backup_restore_tests, backup_restore_tests.c.test_id)
    if row is None:
        return None
    return RestoreTestRecord(row.time, row.target, row.snapshot_id, row.status,
                             row.files_checked, row.files_matched, row.files_failed, row.bytes)


@dataclass(frozen=True)
class SnapshotRecord:
    time: str
    target: str
    snapshot_id: str
    status: str
    files: int
    bytes: int


def last_snapshot(ledger: Ledger) -> SnapshotRecord | None:
    """The school's newest backup snapshot (for the trust report)."""
    row = _newest(ledger, backup_snapshots, backup_snapshots.c.time)
    if row is None:
        return None
    return SnapshotRecord(row.time, row.target, row.snapshot_id, row.status, row.files, row.bytes)
