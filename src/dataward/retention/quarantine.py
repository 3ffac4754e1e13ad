"""Apply an approved plan (move due files into quarantine) and restore from quarantine.

Quarantine is a folder inside each image root (``retention.quarantine_dirname``), so a
move is one atomic rename on the same volume: a file is always whole in exactly one of
its two places. Files there are named by item number only; ``manifest.jsonl`` beside
them maps each back to where it came from, for a person with no dataward at hand.

Before moving anything, every due file is checked against the plan (a regular file,
same size, mtime and SHA-256, reached without a symlink); one difference refuses the
whole plan and nothing moves. Moves go in batches: the journal records each batch's
intents first, so a crash mid-batch is reconciled by the next run (``recovery``).
"""
from __future__ import annotations

import errno
import json
import os
from typing import Any
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import (
    DatawardError, IntegrityError, NotFoundError, PartialError, PathOutsideRootsError,
    RefusedError,
)
from sqlalchemy import Row

from ..ledger import Ledger, utcnow
from ..settings import Settings
from . import store
from .inventory import check_root
from .journal import Journal
from .lock import retention_lock
from .safefs import ensure_dir, fsync_dir, is_regular, lstat_at, open_dir, sha256_at
from .store import ItemRow

BATCH = 200
Tick = Callable[[int], None]


def state_dir(settings: Settings) -> Path:
    return settings.home / "retention"


def quarantine_name(item: ItemRow) -> str:
    """The file's name in quarantine: its number and extension, never its old name."""
    ext = os.path.splitext(item.rel)[1].lower()
    return f"{item.item_no:06d}{ext if ext.isascii() and len(ext) <= 6 else ''}"


def _split(item: ItemRow) -> tuple[str, str]:
    parent, _, name = item.rel.rpartition("/")
    return parent, name


@contextmanager
def quarantine_dir(settings: Settings, root: str, plan_id: str) -> Iterator[int]:
    """Descriptor of ``<root>/<quarantine>/<plan>``, made 0700 if needed, no symlinks."""
    with open_dir(Path(root)) as rfd:
        qfd = ensure_dir(rfd, settings.retention.quarantine_dirname)
        try:
            pfd = ensure_dir(qfd, plan_id)
        finally:
            os.close(qfd)
        try:
            yield pfd
        finally:
            os.close(pfd)


def append_manifest(qfd: int, records: list[dict[str, object]]) -> None:
    fd = os.open("manifest.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
                 0o600, dir_fd=qfd)
    try:
        os.write(fd, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def allowed_roots(plan_row: Row[Any]) -> set[str]:
    """The plan's roots, each checked again now (still a real folder, not a symlink)."""
    roots = json.loads(plan_row.roots)
    return {str(check_root(Path(r))) for r in roots}


def _check_item(item: ItemRow, roots: set[str], *, hash_it: bool) -> str | None:
    """None when the file is exactly as planned, else what differs (no names)."""
    if item.root not in roots:
        raise PathOutsideRootsError(f"item {item.ref} lies outside the plan's image roots")
    parent, name = _split(item)
    with open_dir(Path(item.root), parent) as dfd:
        st = lstat_at(dfd, name)
        if st is None:
            return "missing"
        if not is_regular(st):
            return "no longer a regular file (a symlink?)"
        if st.st_nlink > 1:
            return f"has {st.st_nlink} hard links now (its bytes are also under another name)"
        if st.st_size != item.size:
            return "size changed"
        if st.st_mtime_ns != item.mtime_ns:
            return "modified since planning"
        if hash_it and sha256_at(dfd, name) != item.sha256:
            return "contents changed (SHA-256 differs)"
    return None


@dataclass
class ApplyResult:
    plan_id: str
    moved: int = 0
    already: int = 0
    bytes_moved: int = 0
    dry_run: bool = False
    skipped: list[str] = field(default_factory=list)


def check_approved(ledger: Ledger, row: Row[Any]) -> None:
    status = row.status
    pid = row.plan_id
    if status == store.SUPERSEDED:
        raise RefusedError(f"plan {pid} was superseded by a newer plan before anyone approved "
                           "it; nothing was moved", hint="apply the newest approved plan")
    if status == store.PLANNED:
        raise RefusedError(f"plan {pid} has not been approved; nothing was moved",
                           hint=f"a named person runs `dataward retention approve {pid} --by NAME`")
    if row.approved_digest != row.digest or store.current_digest(ledger, pid) != row.digest:
        raise IntegrityError(f"plan {pid} no longer matches what was approved (its items were "
                             "altered in the ledger); nothing was moved",
                             hint="make and approve a new plan")


def apply_plan(settings: Settings, ledger: Ledger, plan_id: str, *, dry_run: bool = False,
               tick: Tick | None = None, actor: str | None = None) -> ApplyResult:
    """Move an approved plan's due files into quarantine (or, dry run, only check them)."""
    from .recovery import blocked_error, recover
    with retention_lock(state_dir(settings)):
        blocked = recover(settings, ledger)
        row = store.get_plan(ledger, plan_id)
        if row.plan_id in blocked:
            raise blocked_error(row.plan_id, blocked[row.plan_id])
        try:
            return _apply_locked(settings, ledger, row, dry_run=dry_run, tick=tick, actor=actor)
        except DatawardError as exc:
            if not isinstance(exc, PartialError):
                ledger.audit("retention.apply.refused", row.plan_id, actor=actor,
                             error=type(exc).__name__, dry_run=dry_run)
            raise


def _apply_locked(settings: Settings, ledger: Ledger, row: Row[Any], *, dry_run: bool,
                  tick: Tick | None, actor: str | None) -> ApplyResult:
    check_approved(ledger, row)
    plan_id = row.plan_id
    result = ApplyResult(plan_id, dry_run=dry_run)
    roots = allowed_roots(row)
    items = store.plan_items(ledger, plan_id)
    waiting = [i for i in items if i.state == store.WAITING]
    result.already = sum(1 for i in items if i.state != store.WAITING)
    problems = []
    for it in waiting:
        why = _check_item(it, roots, hash_it=True)
        if why:
            problems.append(f"item {it.item_no}: {why}")
    if problems:
        shown = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        raise RefusedError(f"{len(problems)} file(s) of plan {plan_id} changed since it was "
                           f"made; nothing was moved: {shown}",
                           hint="make and approve a new plan (`dataward retention plan`)")
    if dry_run or not waiting:
        if not dry_run and row.status != store.APPLIED:
            with ledger.begin() as conn:
                store.set_plan(conn, plan_id, status=store.APPLIED, applied_at=utcnow())
        return result
    journal = Journal(state_dir(settings))
    with ledger.begin() as conn:
        store.set_plan(conn, plan_id, status=store.APPLYING)
        ledger.audit("retention.apply.start", plan_id, actor=actor, conn=conn, items=len(waiting))
    for start in range(0, len(waiting), BATCH):
        batch = waiting[start:start + BATCH]
        journal.intend("move", [(plan_id, i.item_no) for i in batch])
        moved: list[tuple[ItemRow, str]] = []
        for it in batch:
            why = _move_one(settings, it)
            if why is None:
                moved.append((it, utcnow()))
                result.moved += 1
                result.bytes_moved += it.size
            else:
                result.skipped.append(f"item {it.item_no}: {why}")
            if tick:
                tick(1)
        _settle_batch(settings, plan_id, moved)
        with ledger.begin() as conn:
            for it, at in moved:
                store.set_item(conn, plan_id, it.item_no, state=store.QUARANTINED,
                               qpath=quarantine_name(it), quarantined_at=at)
        journal.done("move", [(plan_id, i.item_no) for i in batch])
    with ledger.begin() as conn:
        store.set_plan(conn, plan_id, status=store.APPLIED, applied_at=utcnow())
        ledger.audit("retention.apply", plan_id, actor=actor, conn=conn, moved=result.moved,
                     bytes=result.bytes_moved, skipped=len(result.skipped))
    journal.clear_if_settled()
    if result.skipped:
        raise PartialError(f"plan {plan_id}: {result.moved} file(s) quarantined, "
                           f"{len(result.skipped)} left in place: " + "; ".join(result.skipped[:5]),
                           hint="those files stay where they are; a new plan picks them up")
    return result


def _move_one(settings: Settings, it: ItemRow) -> str | None:
    """Rename one file into quarantine if it is still as planned (size and mtime; the
    hash was checked before the first move and is checked again before any purge).
    Returns None when moved, else why it stayed in place."""
    parent, name = _split(it)
    with open_dir(Path(it.root), parent) as dfd, \
            quarantine_dir(settings, it.root, it.plan_id) as qfd:
        st = lstat_at(dfd, name)
        if st is None or not is_regular(st) or st.st_size != it.size or st.st_mtime_ns != it.mtime_ns:
            return "changed while applying"
        if st.st_nlink > 1:
            return "hard-linked to another name while applying"
        qname = quarantine_name(it)
        if lstat_at(qfd, qname) is not None:
            raise IntegrityError(f"quarantine already holds a file for item {it.ref}")
        try:
            os.rename(name, qname, src_dir_fd=dfd, dst_dir_fd=qfd)
        except OSError as exc:
            if exc.errno == errno.EXDEV:  # a folder below the root is another mount
                return "on another volume than its root's quarantine folder; left in place"
            raise
    return None


def _settle_batch(settings: Settings, plan_id: str, moved: list[tuple[ItemRow, str]]) -> None:
    """Flush a batch's renames to disk (each folder once) and add it to the manifests."""
    by_root: dict[str, list[tuple[ItemRow, str]]] = {}
    for it, at in moved:
        by_root.setdefault(it.root, []).append((it, at))
    for root, rows in by_root.items():
        for parent in sorted({_split(it)[0] for it, _ in rows}):
            with open_dir(Path(root), parent) as dfd:
                fsync_dir(dfd)
        with quarantine_dir(settings, root, plan_id) as qfd:
            fsync_dir(qfd)
            append_manifest(qfd, [{"item": it.item_no, "path": it.rel, "size": it.size,
                                   "sha256": it.sha256, "quarantined_at": at} for it, at in rows])


@dataclass
class RestoreResult:
    restored: int = 0
    conflicts: list[str] = field(default_factory=list)


def restore(settings: Settings, ledger: Ledger, target: str, *, actor: str | None = None
            ) -> RestoreResult:
    """Move quarantined files back: a whole plan (``PLAN``) or one item (``PLAN:N``)."""
    from .recovery import blocked_error, recover
    plan_id, _, no = target.partition(":")
    with retention_lock(state_dir(settings)):
        blocked = recover(settings, ledger)
        row = store.get_plan(ledger, plan_id)
        if row.plan_id in blocked:
            raise blocked_error(row.plan_id, blocked[row.plan_id])
        items = store.plan_items(ledger, row.plan_id, states=(store.QUARANTINED,))
        if no:
            items = [i for i in items if str(i.item_no) == no.strip()]
            if not items:
                raise NotFoundError(f"item {target} is not in quarantine",
                                    hint=f"`dataward retention show {plan_id}` lists its items")
        roots = allowed_roots(row)
        result = RestoreResult()
        journal = Journal(state_dir(settings))
        journal.intend("restore", [(row.plan_id, i.item_no) for i in items])
        for it in items:
            if it.root not in roots:
                raise PathOutsideRootsError(f"item {it.ref} lies outside the plan's image roots")
            if restore_one(settings, it):
                with ledger.begin() as conn:
                    store.set_item(conn, it.plan_id, it.item_no, state=store.RESTORED,
                                   restored_at=utcnow())
                result.restored += 1
            else:
                result.conflicts.append(f"item {it.item_no}: a file of that name is back in place")
            journal.done("restore", [(it.plan_id, it.item_no)])
        ledger.audit("retention.restore", target, actor=actor, restored=result.restored,
                     conflicts=len(result.conflicts))
        journal.clear_if_settled()
    if result.conflicts:
        raise PartialError(f"restored {result.restored} file(s); {len(result.conflicts)} left in "
                           "quarantine because their place is taken: "
                           + "; ".join(result.conflicts[:5]))
    return result


def restore_one(settings: Settings, it: ItemRow) -> bool:
    parent, name = _split(it)
    with open_dir(Path(it.root)) as rfd:
        fds = [rfd]
        try:
            for part in parent.split("/") if parent else []:
                fds.append(ensure_dir(fds[-1], part, 0o755))
            dfd = fds[-1]
            with quarantine_dir(settings, it.root, it.plan_id) as qfd:
                qname = quarantine_name(it)
                if lstat_at(dfd, name) is not None:
                    return False
                if lstat_at(qfd, qname) is None:
                    raise IntegrityError(f"item {it.ref} is missing from quarantine")
                try:  # link + unlink never replaces a file that appeared meanwhile
                    os.link(qname, name, src_dir_fd=qfd, dst_dir_fd=dfd, follow_symlinks=False)
                    os.unlink(qname, dir_fd=qfd)
                except FileExistsError:
                    return False
                except OSError:  # no hard links on this file system
                    os.rename(qname, name, src_dir_fd=qfd, dst_dir_fd=dfd)
                fsync_dir(dfd)
                fsync_dir(qfd)
                append_manifest(qfd, [{"item": it.item_no, "restored_at": utcnow()}])
        finally:
            for fd in fds[1:]:
                os.close(fd)
    return True
