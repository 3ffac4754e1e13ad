"""Purge: destroy quarantined files past the grace period, and write the deletion record.

Only files of an approved plan, in quarantine for at least ``retention.grace_days``,
whose bytes still hash to the SHA-256 taken at planning, are purged: each is
overwritten with zeros, flushed, then unlinked. The deletion record (ledger table
``retention_deletions`` and a CSV under ``<home>/retention/deletion-records/``) lists
path, size, SHA-256, reason, approver and times; never any image content.
"""
from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..cells import write_csv
from ..connectors.filesystem import file_sha256
from ..errors import IntegrityError, PartialError
from ..ledger import Ledger, utcnow
from ..settings import Settings
from . import store
from .journal import Journal
from .lock import retention_lock
from .quarantine import quarantine_dir, quarantine_name, state_dir
from .safefs import HardLinked, fsync_dir, is_regular, lstat_at, overwrite_at, sha256_at
from .store import ItemRow

METHOD = "overwritten with zeros, flushed, unlinked"
BATCH = 200
RECORD_FIELDS = ("path", "size", "sha256", "reason", "plan_id", "item_no", "approved_by",
                 "quarantined_at", "purged_at", "method")


@dataclass
class PurgeResult:
    purged: int = 0
    bytes_purged: int = 0
    waiting: int = 0  # in quarantine, grace period not over
    eligible: int = 0
    altered: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # plans held up by an interrupted step
    record: Path | None = None
    dry_run: bool = False


def deletion_row(it: ItemRow, approved_by: str, method: str = METHOD) -> dict[str, object]:
    return {"plan_id": it.plan_id, "item_no": it.item_no, "path": it.path, "size": it.size,
            "sha256": it.sha256, "reason": it.reason, "approved_by": approved_by,
            "quarantined_at": it.quarantined_at or "", "purged_at": utcnow(), "method": method}


def write_record(settings: Settings, rows: list[dict[str, object]]) -> Path | None:
    """The deletion record of one run as CSV (0600); None when nothing was deleted."""
    if not rows:
        return None
    folder = state_dir(settings) / "deletion-records"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    buf = io.StringIO()
    write_csv(buf, RECORD_FIELDS, ([r[f] for f in RECORD_FIELDS] for r in rows),
              lineterminator="\n")
    path = folder / f"deletions-{datetime.now(UTC):%Y%m%d-%H%M%S-%f}.csv"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(buf.getvalue())
        fh.flush()
        os.fsync(fh.fileno())
    return path


def destroy_one(settings: Settings, it: ItemRow) -> bool:
    """Overwrite and unlink an item's quarantined file (gone already: nothing to do).
    False when it was left alone because it has other hard links."""
    with quarantine_dir(settings, it.root, it.plan_id) as qfd:
        qname = quarantine_name(it)
        if is_regular(lstat_at(qfd, qname)):
            try:
                overwrite_at(qfd, qname)
            except HardLinked:
                return False
            os.unlink(qname, dir_fd=qfd)
    return True


def _verify(settings: Settings, it: ItemRow) -> str | None:
    with quarantine_dir(settings, it.root, it.plan_id) as qfd:
        qname = quarantine_name(it)
        st = lstat_at(qfd, qname)
        if st is None or not is_regular(st):
            return "missing from quarantine"
        if st.st_nlink > 1:
            return (f"has {st.st_nlink} hard links in quarantine (its bytes are also under "
                    "another name); not overwritten")
        if st.st_size != it.size or sha256_at(qfd, qname) != it.sha256:
            return "altered in quarantine (SHA-256 differs)"
    return None


def _approver(ledger: Ledger, plan_id: str, cache: dict[str, str | None]) -> str | None:
    if plan_id not in cache:
        row = store.get_plan(ledger, plan_id)
        ok = row.status in (store.APPLYING, store.APPLIED) and row.approved_by
        cache[plan_id] = row.approved_by if ok else None
    return cache[plan_id]


def purge(settings: Settings, ledger: Ledger, *, now: datetime | None = None,
          dry_run: bool = False, tick: Callable[[int], None] | None = None,
          actor: str | None = None) -> PurgeResult:
    """Destroy quarantined files whose grace period is over (dry run: only count them)."""
    from .recovery import recover
    now = now or datetime.now(UTC)
    grace = timedelta(days=settings.retention.grace_days)
    result = PurgeResult(dry_run=dry_run)
    with retention_lock(state_dir(settings)):
        blocked = recover(settings, ledger)
        result.blocked = sorted(blocked)
        approvers: dict[str, str | None] = {}
        eligible: list[tuple[ItemRow, str]] = []
        for it in store.quarantined_items(ledger):
            if it.plan_id in blocked:
                continue  # its plan waits for a person (`retention abandon`)
            at = datetime.fromisoformat(it.quarantined_at or now.isoformat())
            by = _approver(ledger, it.plan_id, approvers)
            if by is None:
                result.altered.append(f"item {it.ref}: its plan is not approved")
            elif at + grace <= now:
                eligible.append((it, by))
            else:
                result.waiting += 1
        result.eligible = len(eligible)
        if dry_run:
            return result
        journal = Journal(state_dir(settings))
        rows: list[dict[str, object]] = []
        for start in range(0, len(eligible), BATCH):
            batch = []
            for it, by in eligible[start:start + BATCH]:
                why = _verify(settings, it)
                if why:
                    result.altered.append(f"item {it.ref}: {why}")
                else:
                    batch.append((it, by))
            journal.intend("purge", [(it.plan_id, it.item_no) for it, _ in batch])
            done_rows = []
            for it, by in list(batch):
                if not destroy_one(settings, it):
                    result.altered.append(f"item {it.ref}: hard-linked to another name; "
                                          "not overwritten")
                    batch.remove((it, by))
                    journal.done("purge", [(it.plan_id, it.item_no)])
                    continue
                done_rows.append(deletion_row(it, by))
                result.purged += 1
                result.bytes_purged += it.size
                if tick:
                    tick(1)
            for root in sorted({it.root for it, _ in batch}):
                for plan_id in sorted({it.plan_id for it, _ in batch if it.root == root}):
                    with quarantine_dir(settings, root, plan_id) as qfd:
                        fsync_dir(qfd)  # the unlinks of this batch, once per folder
            with ledger.begin() as conn:
                for it, row in zip((b[0] for b in batch), done_rows, strict=True):
                    store.set_item(conn, it.plan_id, it.item_no, state=store.PURGED,
                                   purged_at=row["purged_at"])
                    store.record_deletion(conn, row)
            journal.done("purge", [(it.plan_id, it.item_no) for it, _ in batch])
            rows.extend(done_rows)
        result.record = write_record(settings, rows)
        ledger.audit("retention.purge", "quarantine", actor=actor, purged=result.purged,
                     bytes=result.bytes_purged, waiting=result.waiting,
                     refused=len(result.altered), grace_days=settings.retention.grace_days,
                     record_sha256=_sha(result.record))
        journal.clear_if_settled()
    if result.altered:
        raise IntegrityError(f"purged {result.purged} file(s); {len(result.altered)} kept in "
                             "quarantine: " + "; ".join(result.altered[:5]),
                             hint="a file that changed after approval is never destroyed; "
                                  "restore it or make a new plan")
    if result.blocked:
        raise PartialError(f"purged {result.purged} file(s); the files of plan(s) "
                           f"{', '.join(result.blocked)} were left alone: an interrupted step "
                           "of theirs could not be finished",
                           hint="put the folders right, or `dataward retention abandon PLAN "
                                "--by NAME` once a person has dealt with it")
    return result


def _sha(path: Path | None) -> str | None:
    return file_sha256(path) if path else None
