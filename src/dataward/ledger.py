"""The ledger: dataward's embedded state, and the hash-chained audit log.

SQLite (WAL) by default, through SQLAlchemy Core, so a trust can point
``database_url`` at PostgreSQL instead. Every table is declared in ``dataward.schema``; the
database is brought to this release's schema by the Alembic migrations in
``dataward/migrations`` when a ledger is opened.

The audit log is append-only. Record *n* stores ``prev_hash`` (the hash of record
*n-1*) and ``hash = sha256(canonical JSON of its own fields + prev_hash)``. The newest
(seq, hash) is also kept in the ``meta`` table and in ``audit.head`` beside the ledger,
so ``verify_audit`` notices an edited record, a deleted record in the middle, and a
truncated tail. Audit details hold ids, counts and hashes, never personal values.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Table, create_engine, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .errors import DatawardError, IntegrityError, LockedError, NotFoundError
from .schema import DEFAULT_SCHOOL, audit_table, meta_table, scans_table

GENESIS = "0" * 64
_PENDING_HEAD = "dataward.audit_head"   # conn.info key: the head to write after commit


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _canonical(d: Mapping[str, Any]) -> bytes:
    return json.dumps(d, sort_keys=True, separators=(",", ":"), default=str).encode()


def _record_hash(seq: int, ts: str, actor: str, action: str, subject: str, details: str,
                 prev_hash: str) -> str:
    body = _canonical({"seq": seq, "ts": ts, "actor": actor, "action": action,
                       "subject": subject, "details": details, "prev": prev_hash})
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    ts: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class AuditVerdict:
    ok: bool
    records: int
    problems: list[str]


# How long a connection waits for another one's lock before "database is locked".
SQLITE_BUSY_MS = 10_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # The busy timeout first: every statement below may wait for another connection.
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    _ensure_wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _ensure_wal(cur: Any) -> None:
    """Switch the database to WAL once (the mode is stored in the file).

    SQLite answers a journal-mode change with SQLITE_BUSY at once, without waiting on the
    busy timeout, while another connection has the file open in a transaction: several
    processes opening a new ledger together failed with "database is locked". So the mode
    is only changed when it is not WAL yet, and a busy answer is retried until the
    timeout."""
    import sqlite3
    import time
    deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
    while True:
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            cur.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Ledger:
    """Connection to the ledger database. Cheap to open; use as a context manager.

    ``school_id``: whose rows this connection reads and writes. A trust's schools share
    one ledger; the scan catalog and the audit records are kept apart by this id (every
    query of them is filtered by it). The audit chain itself runs across the whole
    ledger, so ``verify_audit`` checks every school's records together."""

    def __init__(self, url: str, *, head_file: Path | None = None,
                 school_id: str = DEFAULT_SCHOOL) -> None:
        self.url = url
        self.school_id = school_id
        if url.startswith("sqlite:///"):
            db_path = Path(url.removeprefix("sqlite:///"))
            db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            head_file = head_file or db_path.with_name("audit.head")
        self.head_file = head_file
        try:
            # pool_pre_ping: a ledger held open across a PostgreSQL restart (a trust's
            # worker scanning a part) finds its pooled connection dead and takes a new one
            # instead of failing the scan's next write.
            self.engine: Engine = create_engine(
                url, future=True, pool_pre_ping=not url.startswith("sqlite"))
        except (SQLAlchemyError, ImportError) as exc:
            raise DatawardError(f"cannot open the ledger at {url}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.ensure_schema()

    @classmethod
    def for_settings(cls, settings: Any) -> Ledger:
        return cls(settings.ledger_url, school_id=settings.school.id)

    def ensure_schema(self) -> None:
        """Bring the database to this release's schema (Alembic, ``dataward/migrations``).

        Opening an up-to-date ledger costs one query. Otherwise one process migrates while
        the others wait: a file lock beside a SQLite ledger, an advisory lock on
        PostgreSQL; each re-reads the version once it holds the lock."""
        if self._at_quick_head():
            return
        from .migrations import runner
        try:
            if runner.current_revision(self.engine) == runner.head():
                return
            with runner.migration_lock(self.engine, self.url):
                runner.upgrade(self.engine)
        except (OperationalError, SAIntegrityError) as exc:
            if "locked" in str(exc.orig).lower():
                raise LockedError("the ledger is busy (another dataward run?)") from None
            raise DatawardError(f"cannot bring the ledger up to date: {exc.orig}") from None

    def for_school(self, school_id: str) -> Ledger:
        """The same database and engine, reading and writing ``school_id``'s rows (the
        trust report reads every school's rows over one connection pool)."""
        other = copy.copy(self)
        other.school_id = school_id
        return other

    def _at_quick_head(self) -> bool:
        """True when the stamped revision is the newest one, found without importing
        Alembic (``migrations.heads``); False sends the caller to Alembic."""
        from .migrations.heads import quick_head
        head = quick_head()
        if head is None:
            return False
        try:
            with self.engine.connect() as conn:
                rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        except SQLAlchemyError:
            return False  # no version table yet (a new or a 0.1.0 ledger)
        return len(rows) == 1 and rows[0][0] == head

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction; commits on success, rolls back on error.

        The ``audit.head`` file is written only after the commit: a commit that fails must
        not leave a head the ledger does not have (a false tamper alarm)."""
        pending: dict[str, str] = {}
        try:
            with self.engine.begin() as conn:
                conn.info[_PENDING_HEAD] = pending
                try:
                    yield conn
                finally:
                    conn.info.pop(_PENDING_HEAD, None)
        except OperationalError as exc:
            if "locked" in str(exc.orig).lower():
                raise LockedError("the ledger is busy (another dataward run?)") from None
            raise
        if "head" in pending and self.head_file is not None:
            self._write_head_file(pending["head"])

    def _write_head_file(self, head: str) -> None:
        """Replace ``audit.head`` unless a later record's head is already there: writers
        commit in order but may reach this point out of order."""
        assert self.head_file is not None
        import fcntl

        with open(self.head_file.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = json.loads(self.head_file.read_text())["seq"]
            except (OSError, ValueError, KeyError, TypeError):
                current = 0
            if json.loads(head)["seq"] > current:
                tmp = self.head_file.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(head)
                os.replace(tmp, self.head_file)

    # ---- audit ----------------------------------------------------------------------
    def audit(self, action: str, subject: str = "", *, actor: str | None = None,
              conn: Connection | None = None, **details: Any) -> AuditRecord:
        """Append one audit record. Pass ``conn`` to join a caller's transaction."""
        if conn is None:
            with self.begin() as c:
                return self.audit(action, subject, actor=actor, conn=c, **details)
        # Take the write lock now so two writers cannot read the same tail.
        if self.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("UPDATE meta SET value = value WHERE key = 'audit_head'")
        elif self.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE")
        last = conn.execute(
            select(audit_table.c.seq, audit_table.c.hash).order_by(audit_table.c.seq.desc()).limit(1)
        ).first()
        seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
        ts = utcnow()
        actor = actor or current_user()
        body = json.dumps(details, sort_keys=True, default=str)
        h = _record_hash(seq, ts, actor, action, subject, body, prev)
        conn.execute(insert(audit_table).values(
            seq=seq, ts=ts, actor=actor, action=action, subject=subject, details=body,
            prev_hash=prev, hash=h, school_id=self.school_id))
        head = json.dumps({"seq": seq, "hash": h})
        if conn.execute(select(meta_table.c.key).where(meta_table.c.key == "audit_head")).first():
            conn.execute(update(meta_table).where(meta_table.c.key == "audit_head").values(value=head))
        else:
            conn.execute(insert(meta_table).values(key="audit_head", value=head))
        conn.info[_PENDING_HEAD]["head"] = head   # begin() writes the file after the commit
        return AuditRecord(seq, ts, actor, action, subject, details, h)

    def audit_records(self, *, action_prefix: str = "") -> list[AuditRecord]:
        with self.engine.connect() as conn:
            q = (select(audit_table).where(audit_table.c.school_id == self.school_id)
                 .order_by(audit_table.c.seq))
            if action_prefix:
                q = q.where(audit_table.c.action.startswith(action_prefix))
            return [AuditRecord(r.seq, r.ts, r.actor, r.action, r.subject,
                                json.loads(r.details), r.hash) for r in conn.execute(q)]

    def verify_audit(self) -> AuditVerdict:
        """Recompute the chain; report every break, edit, gap and lost tail."""
        problems: list[str] = []
        prev, expected_seq, n = GENESIS, 1, 0
        last_hash = GENESIS
        with self.engine.connect() as conn:
            for r in conn.execute(select(audit_table).order_by(audit_table.c.seq)):
                n += 1
                if r.seq != expected_seq:
                    problems.append(f"record {expected_seq} to {r.seq - 1} missing (deleted)")
                if r.prev_hash != prev:
                    problems.append(f"record {r.seq}: chain broken (previous record altered or removed)")
                h = _record_hash(r.seq, r.ts, r.actor, r.action, r.subject, r.details, r.prev_hash)
                if h != r.hash:
                    problems.append(f"record {r.seq}: contents altered since it was written")
                prev, expected_seq, last_hash = r.hash, r.seq + 1, r.hash
            head_row = conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == "audit_head")).first()
        heads = []
        if head_row:
            heads.append(("ledger", json.loads(head_row.value)))
        if self.head_file is not None and self.head_file.exists():
            heads.append(("audit.head file", json.loads(self.head_file.read_text())))
        elif self.head_file is not None and n:
            # Every append rewrites audit.head: with records in the log it must be there.
            problems.append(f"{self.head_file.name} is missing (deleted?): the end of the log "
                            "cannot be checked against it")
        for where, head in heads:
            if head["seq"] != expected_seq - 1 or head["hash"] != last_hash:
                problems.append(
                    f"the {where} says the log ends at record {head['seq']}, "
                    f"but it ends at {expected_seq - 1} (records removed from the end?)")
        return AuditVerdict(ok=not problems, records=n, problems=problems)

    # ---- scans ----------------------------------------------------------------------
    def scan_rows(self, *, status: str | None = None) -> list[Row[Any]]:
        with self.engine.connect() as conn:
            q = (select(scans_table).where(scans_table.c.school_id == self.school_id)
                 .order_by(scans_table.c.started.desc()))
            if status:
                q = q.where(scans_table.c.status == status)
            return list(conn.execute(q))

    def get_scan(self, scan_id: str) -> Any:
        """A scan row by id, or by ``latest``: the newest complete or partial scan of the
        configured sources (an ad hoc ``scan PATH`` is never the latest)."""
        with self.engine.connect() as conn:
            if scan_id == "latest":
                row = conn.execute(
                    select(scans_table)
                    .where(scans_table.c.school_id == self.school_id)
                    .where(scans_table.c.status.in_(("complete", "partial")))
                    .where(scans_table.c.mode != "adhoc")
                    .order_by(scans_table.c.started.desc()).limit(1)).first()
            else:
                row = conn.execute(select(scans_table).where(
                    scans_table.c.school_id == self.school_id,
                    scans_table.c.scan_id == scan_id)).first()
        if row is None:
            raise NotFoundError(f"no scan {scan_id!r} in the ledger",
                                hint="`dataward scans` lists the scans")
        return row

    def count(self, table: Table) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()


@contextmanager
def ledger_for(settings: Any, ledger: Ledger | None = None) -> Iterator[Ledger]:
    """The caller's ledger if it passed one, else one opened (and closed) here."""
    if ledger is not None:
        yield ledger
        return
    with Ledger.for_settings(settings) as own:
        yield own


def current_user() -> str:
    """Who is running dataward (the actor of audit records made without one)."""
    try:
        import getpass
        return getpass.getuser()
    except (ImportError, KeyError, OSError):  # no pwd module, no passwd entry (3.13: OSError)
        return "unknown"


def verify_or_raise(ledger: Ledger) -> AuditVerdict:
    verdict = ledger.verify_audit()
    if not verdict.ok:
        raise IntegrityError("the audit log has been altered: " + "; ".join(verdict.problems))
    return verdict
