"""Finish or undo what a crashed run left half-done, before anything else happens.

For each intent in the journal without its ``done``, the file system says where the
file is, and the ledger is brought in line:

* move: in quarantine and gone from its place -> quarantined; still in its place ->
  untouched (the run will move it); in neither -> reported, never guessed.
* restore: back in its place -> restored (a leftover hard link in quarantine is
  removed); still in quarantine -> stays quarantined.
* purge: the file was verified before its intent was written, so the destruction is
  finished (overwrite, unlink) and the deletion record is written.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ..ledger import Ledger, utcnow
from ..settings import Settings
from . import store
from .journal import Journal
from .purge import deletion_row, destroy_one, write_record
from .quarantine import append_manifest, quarantine_dir, quarantine_name, state_dir
from .safefs import is_regular, lstat_at, open_dir


def _item(ledger: Ledger, plan_id: str, item_no: int,
          cache: dict[str, dict[int, store.ItemRow]]) -> store.ItemRow | None:
    if plan_id not in cache:
        cache[plan_id] = {i.item_no: i for i in store.plan_items(ledger, plan_id)}
    return cache[plan_id].get(item_no)


def recover(settings: Settings, ledger: Ledger) -> int:
    """Reconcile every pending intent; returns how many items were settled."""
    journal = Journal(state_dir(settings))
    pending = journal.pending()
    if not pending:
        return 0
    deleted: list[dict[str, object]] = []
    settled = 0
    cache: dict[str, dict[int, store.ItemRow]] = {}
    for p in pending:
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
    record = write_record(settings, deleted)
    ledger.audit("retention.recover", "journal", pending=len(pending), settled=settled,
                 purged=len(deleted), record=record.name if record else None)
    journal.clear_if_settled()
    return settled


def _state_now(ledger: Ledger, it: store.ItemRow) -> str:
    from sqlalchemy import select
    with ledger.engine.connect() as conn:
        return conn.execute(select(store.items_table.c.state).where(
            store.items_table.c.plan_id == it.plan_id,
            store.items_table.c.item_no == it.item_no)).scalar_one()
