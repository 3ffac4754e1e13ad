"""Finish or undo what a crashed run left half-done, before anything else happens.

For each intent in the journal without its ``done``, the file system says where the
file is, and the ledger is brought in line:

* move: in quarantine and gone from its place -> quarantined; still in its place ->
  untouched (the run will move it); in neither -> reported, never guessed.
* restore: back in its place -> restored (a leftover hard link in quarantine is
  removed); still in quarantine -> stays quarantined.
* purge: the file was verified before its intent was written, so the destruction is
  finished (overwrite, unlink) and the deletion record is written.

Intents are reconciled plan by plan (one journal file per plan): an intent that cannot
be reconciled (a folder swapped for a symlink since) holds up its own plan only. Commands
on that plan stop with the reason and the way out; ``abandon`` records, audited with a
person's name, that the step was dealt with by hand.
"""
from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from ..errors import DatawardError
from ..ledger import Ledger, utcnow
from ..settings import Settings
from . import store
from .journal import Journal, Pending
from .purge import deletion_row, destroy_one, write_record
from .quarantine import append_manifest, quarantine_dir, quarantine_name, state_dir
from .safefs import is_regular, lstat_at, open_dir

log = logging.getLogger("dataward.retention")


def _item(ledger: Ledger, plan_id: str, item_no: int,
          cache: dict[str, dict[int, store.ItemRow]]) -> store.ItemRow | None:
    if plan_id not in cache:
        cache[plan_id] = {i.item_no: i for i in store.plan_items(ledger, plan_id)}
    return cache[plan_id].get(item_no)


def recover(settings: Settings, ledger: Ledger) -> dict[str, DatawardError]:
    """Reconcile every pending intent, plan by plan. Returns the plans whose intents could
    not be reconciled (and why): those plans wait for a person, the others go on."""
    journal = Journal(state_dir(settings))
    plans = journal.plans()
    if not plans:
        return {}
    deleted: list[dict[str, object]] = []
    blocked: dict[str, DatawardError] = {}
    settled = pending = 0
    for plan_id in plans:
        todo = journal.pending(plan_id)
        pending += len(todo)
        try:
            settled += _recover_plan(settings, ledger, journal, todo, deleted)
        except DatawardError as exc:
            blocked[plan_id] = exc
            log.warning("retention plan %s: an interrupted step cannot be finished (%s)",
                        plan_id, type(exc).__name__)
    record = write_record(settings, deleted)
    ledger.audit("retention.recover", "journal", pending=pending, settled=settled,
                 purged=len(deleted), record=record.name if record else None,
                 blocked=sorted(blocked))
    journal.clear_if_settled()
    return blocked


def blocked_error(plan_id: str, exc: DatawardError) -> DatawardError:
    """The error a command on a held-up plan stops with (same class, same exit code)."""
    return type(exc)(
        f"plan {plan_id}: an interrupted step could not be finished: {exc.message}",
        hint=f"put the folders right and run the command again, or record that a person "
             f"has dealt with it: `dataward retention abandon {plan_id} --by NAME`")


def _recover_plan(settings: Settings, ledger: Ledger, journal: Journal, todo: list[Pending],
                  deleted: list[dict[str, object]]) -> int:
    settled = 0
    cache: dict[str, dict[int, store.ItemRow]] = {}
    for p in todo:
        it = _item(ledger, p.plan_id, p.item_no, cache)
        if it is None:
            journal.done(p.op, [(p.plan_id, p.item_no)])
            continue
        parent, _, name = it.rel.rpartition("/")
        if p.op == "move" and it.state == store.WAITING:
            with quarantine_dir(settings, it.root, it.plan_id) as qfd:
                in_q = is_regular(lstat_at(qfd, quarantine_name(it)))
                if in_q:
                    append_manifest(qfd, [{"item": it.item_no, "path": it.rel, "size": it.size,
                                           "sha256": it.sha256, "quarantined_at": utcnow(),
                                           "recovered": True}])
            if in_q:
                with ledger.begin() as conn:
                    store.set_item(conn, it.plan_id, it.item_no, state=store.QUARANTINED,
                                   qpath=quarantine_name(it), quarantined_at=utcnow())
                settled += 1
        elif p.op == "restore" and it.state == store.QUARANTINED:
            try:
                with open_dir(Path(it.root), parent) as dfd, \
                        quarantine_dir(settings, it.root, it.plan_id) as qfd:
                    back, q = lstat_at(dfd, name), lstat_at(qfd, quarantine_name(it))
                    if back is not None and q is not None and (back.st_ino, back.st_dev) == (q.st_ino, q.st_dev):
                        os.unlink(quarantine_name(it), dir_fd=qfd)  # the link was made
                        q = None
                    if back is not None and q is None:
                        with ledger.begin() as conn:
                            store.set_item(conn, it.plan_id, it.item_no, state=store.RESTORED,
                                           restored_at=utcnow())
                        settled += 1
            except FileNotFoundError:
                pass  # its folder is gone: the file is still in quarantine
        elif p.op == "purge" and it.state == store.QUARANTINED:
            if not destroy_one(settings, it):  # hard-linked since: left in quarantine
                journal.done(p.op, [(p.plan_id, p.item_no)])
                continue
            plan_row = store.get_plan(ledger, it.plan_id)
            row = deletion_row(it, plan_row.approved_by or "",
                               "overwritten with zeros, flushed, unlinked (finished after an "
                               "interrupted run)")
            with ledger.begin() as conn:
                store.set_item(conn, it.plan_id, it.item_no, state=store.PURGED,
                               purged_at=row["purged_at"])
                store.record_deletion(conn, row)
            deleted.append(row)
            settled += 1
        journal.done(p.op, [(p.plan_id, p.item_no)])
        cache[p.plan_id][p.item_no] = replace(it, state=_state_now(ledger, it))
    return settled


def abandon(settings: Settings, ledger: Ledger, plan_id: str, *, by: str,
            reason: str = "") -> list[Pending]:
    """Close a plan's open intents without doing them, after a person has looked at the
    files (e.g. put a swapped folder right by hand). Audited with the person's name; the
    items keep the state the ledger gives them."""
    from ..errors import NotFoundError, UsageError
    from .lock import retention_lock
    by = " ".join(by.split())
    if not by:
        raise UsageError("abandoning an interrupted step needs a name (--by \"Name Surname\")")
    row = store.get_plan(ledger, plan_id)
    with retention_lock(state_dir(settings)):
        journal = Journal(state_dir(settings))
        closed = journal.abandon(row.plan_id)
        if not closed:
            raise NotFoundError(f"plan {row.plan_id} has no interrupted step to abandon",
                                hint="`dataward retention list` shows the plans")
        ops: dict[str, int] = {}
        for p in closed:
            ops[p.op] = ops.get(p.op, 0) + 1
        ledger.audit("retention.intent.abandoned", row.plan_id, actor=by, ops=ops,
                     items=sorted({p.item_no for p in closed}), reason=" ".join(reason.split()))
        journal.clear_if_settled()
    return closed


def _state_now(ledger: Ledger, it: store.ItemRow) -> str:
    from sqlalchemy import select
    with ledger.engine.connect() as conn:
        return conn.execute(select(store.items_table.c.state).where(
            store.items_table.c.plan_id == it.plan_id,
            store.items_table.c.item_no == it.item_no)).scalar_one()
