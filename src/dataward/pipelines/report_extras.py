"""Figures the report borrows from other parts of dataward: the latest backup restore test,
the latest retention plan and the latest leavers' accounts audit. Each is read only when its table exists in the ledger (a
school may not use backups or retention), by plain SQL, so the report does not depend on
those modules. Only ids, counts, dates and statuses are read for display (the paths of images
past their retention date are read only to pick an item's next step, never shown): never pupil
references or the names of people."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Row, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from ..ledger import Ledger


@dataclass(frozen=True)
class RestoreTest:
    time: str
    target: str
    snapshot: str
    status: str
    checked: int
    matched: int
    failed: int


@dataclass(frozen=True)
class RetentionFigures:
    plan_id: str
    as_of: str
    status: str
    images: int
    due: int
    due_bytes: int
    by_reason: dict[str, int] = field(default_factory=dict)
    past_due_in_place: int = 0   # due on or before today, still where they were
    quarantined: int = 0         # in quarantine, waiting to be purged
    purged: int = 0


def _has(ledger: Ledger, table: str) -> bool:
    try:
        return inspect(ledger.engine).has_table(table)
    except SQLAlchemyError:
        return False


def optional_rows(ledger: Ledger, table: str, sql: str,
                  params: dict[str, Any] | None = None) -> list[Row[Any]] | None:
    """The rows ``sql`` reads from ``table``, a table the ledger may not have: None when it
    has not (that part of dataward is not used) or the read fails, so the report says
    nothing rather than stop."""
    if not _has(ledger, table):
        return None
    try:
        with ledger.engine.connect() as conn:
            return list(conn.execute(text(sql), params or {}).all())
    except SQLAlchemyError:
        return None


def latest_restore_test(ledger: Ledger) -> RestoreTest | None:
    rows = optional_rows(ledger, "backup_restore_tests",
                         "SELECT time, target, snapshot_id, status, files_checked, files_matched, "
                         "files_failed FROM backup_restore_tests WHERE school_id = :s "
                         "ORDER BY time DESC LIMIT 1", {"s": ledger.school_id})
    if not rows:
        return None
    r = rows[0]
    return RestoreTest(str(r[0])[:16].replace("T", " "), str(r[1]), str(r[2])[:8], str(r[3]),
                       int(r[4] or 0), int(r[5] or 0), int(r[6] or 0))


def retention_figures(ledger: Ledger, today: date | None = None) -> RetentionFigures | None:
    if not _has(ledger, "retention_plans"):
        return None
    today_s = (today or date.today()).isoformat()
    try:
        with ledger.engine.connect() as conn:
            p = conn.execute(text(
                "SELECT plan_id, as_of, status, images, due, due_bytes, counts "
                "FROM retention_plans ORDER BY created DESC LIMIT 1")).first()
            if p is None:
                return None
            states: dict[str, int] = {}
            past_due = 0
            if _has(ledger, "retention_items"):
                for state, n in conn.execute(text(
                        "SELECT state, COUNT(*) FROM retention_items GROUP BY state")):
                    states[str(state)] = int(n)
                past_due = int(conn.execute(text(
                    "SELECT COUNT(*) FROM retention_items WHERE plan_id = :p AND state = 'planned' "
                    "AND due_on IS NOT NULL AND due_on <= :d"), {"p": p[0], "d": today_s}).scalar() or 0)
    except SQLAlchemyError:
        return None
    try:
        by_reason = {str(k): int(v) for k, v in json.loads(p[6] or "{}").items()}
    except (ValueError, TypeError, AttributeError):
        by_reason = {}
    return RetentionFigures(str(p[0]), str(p[1]), str(p[2]), int(p[3] or 0), int(p[4] or 0),
                            int(p[5] or 0), by_reason, past_due,
                            states.get("quarantined", 0), states.get("purged", 0))


@dataclass(frozen=True)
class LastBackup:
    time: str
    target: str
    snapshot: str
    status: str
    files: int


def latest_backup(ledger: Ledger) -> LastBackup | None:
    rows = optional_rows(ledger, "backup_snapshots",
                         "SELECT time, target, snapshot_id, status, files FROM backup_snapshots "
                         "WHERE school_id = :s ORDER BY time DESC LIMIT 1", {"s": ledger.school_id})
    if not rows:
        return None
    r = rows[0]
    return LastBackup(str(r[0])[:16].replace("T", " "), str(r[1]), str(r[2])[:8], str(r[3]),
                      int(r[4] or 0))


def past_retention_paths(ledger: Ledger, today: date | None = None) -> frozenset[str]:
    """Paths of images the latest retention plan says are past their date and still in
    place (the report's "review for deletion" rule). Read to compare, never shown."""
    if not (_has(ledger, "retention_plans") and _has(ledger, "retention_items")):
        return frozenset()
    today_s = (today or date.today()).isoformat()
    try:
        with ledger.engine.connect() as conn:
            plan = conn.execute(text(
                "SELECT plan_id FROM retention_plans ORDER BY created DESC LIMIT 1")).scalar()
            rows = conn.execute(text(
                "SELECT root, rel FROM retention_items WHERE plan_id = :p AND state = 'planned' "
                "AND due_on IS NOT NULL AND due_on <= :d"), {"p": plan, "d": today_s}).all()
    except SQLAlchemyError:
        return frozenset()
    return frozenset(str(root).rstrip("/") + "/" + str(rel) for root, rel in rows)


@dataclass(frozen=True)
class OverdueSar:
    sar_id: str
    subject: str       # masked when recorded
    received: str
    due: str
    days_over: int


def overdue_sars(ledger: Ledger, today: date | None = None) -> list[OverdueSar]:
    """Open subject access requests past their legal due date."""
    today = today or date.today()
    rows = optional_rows(ledger, "sar_requests",
                         "SELECT sar_id, subject, received, due FROM sar_requests "
                         "WHERE status = 'open' AND due < :d ORDER BY due", {"d": today.isoformat()})
    return [OverdueSar(str(r[0]), str(r[1]), str(r[2]), str(r[3]),
                       (today - date.fromisoformat(str(r[3]))).days) for r in rows or []]


@dataclass(frozen=True)
class AccountsFigures:
    audit_id: str
    created: str
    as_of: str
    accounts: int
    counts: dict[str, int]
    plan_id: str | None = None
    plan_status: str | None = None
    disabled: int = 0          # accounts disabled by the latest plan (and not undone)


def accounts_figures(ledger: Ledger) -> AccountsFigures | None:
    """The latest accounts audit's counts and the state of the latest disable plan."""
    if not _has(ledger, "accounts_audits"):
        return None
    try:
        with ledger.engine.connect() as conn:
            a = conn.execute(text("SELECT audit_id, created, as_of, accounts, counts "
                                  "FROM accounts_audits ORDER BY created DESC LIMIT 1")).first()
            if a is None:
                return None
            p = conn.execute(text("SELECT plan_id, status FROM accounts_plans "
                                  "ORDER BY created DESC LIMIT 1")).first() \
                if _has(ledger, "accounts_plans") else None
            disabled = int(conn.execute(text(
                "SELECT COUNT(*) FROM accounts_plan_items WHERE plan_id = :p AND state = 'disabled'"),
                {"p": p[0]}).scalar() or 0) if p is not None else 0
    except SQLAlchemyError:
        return None
    try:
        counts = {str(k): int(v) for k, v in json.loads(a[4] or "{}").items()}
    except (ValueError, TypeError, AttributeError):
        counts = {}
    return AccountsFigures(str(a[0]), str(a[1])[:16].replace("T", " "), str(a[2]), int(a[3] or 0),
                           counts, str(p[0]) if p else None, str(p[1]) if p else None, disabled)
