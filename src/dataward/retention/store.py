"""Ledger tables of retention: plans, their due items, and the deletion record.

A plan row holds counts, the hash of the rules and inputs that produced it, and
``digest``: a SHA-256 over its due items (root, path, size, mtime, SHA-256). Approval
records that digest, and apply refuses a plan whose items no longer hash to it.
Item rows hold the file's place (it is the locator the school needs to act on) and
the reason; pupils appear only as references, never by name or UPN.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from ..ledger import Ledger
from ..pipelines.approval import PLANNED as PLANNED  # the states every job's plans share
from ..pipelines.approval import SUPERSEDED as SUPERSEDED
from ..pipelines.plan_tables import PlanTables
from ..schema import deletions_table, items_table, plans_table

APPROVED, APPLYING, APPLIED = "approved", "applying", "applied"
# PLANNED, SUPERSEDED (a newer plan was made before this one was approved): pipelines.approval
# item states
WAITING, QUARANTINED, RESTORED, PURGED = "planned", "quarantined", "restored", "purged"





@dataclass(frozen=True)
class ItemRow:
    plan_id: str
    item_no: int
    root: str
    rel: str
    size: int
    mtime_ns: int
    sha256: str
    reason: str
    state: str
    qpath: str | None
    quarantined_at: str | None

    @property
    def path(self) -> str:
        return f"{self.root.rstrip('/')}/{self.rel}"

    @property
    def ref(self) -> str:
        return f"{self.plan_id}:{self.item_no}"


def items_digest(rows: Iterable[tuple[int, str, str, int, int, str]]) -> str:
    h = hashlib.sha256()
    for no, root, rel, size, mtime_ns, sha in sorted(rows):
        h.update(f"{no}\t{root}\t{rel}\t{size}\t{mtime_ns}\t{sha}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _item(r: Any) -> ItemRow:
    return ItemRow(r.plan_id, r.item_no, r.root, r.rel, r.size, r.mtime_ns, r.sha256, r.reason,
                   r.state, r.qpath, r.quarantined_at)


# Storing a plan supersedes the older unapproved ones (pipelines.plan_tables says why).
_tables = PlanTables(plans_table, items_table, "retention")
insert_plan, get_plan, list_plans = _tables.insert_plan, _tables.get_plan, _tables.list_plans
set_plan, set_item = _tables.set_plan, _tables.set_item


def plan_items(ledger: Ledger, plan_id: str, *, states: tuple[str, ...] | None = None
               ) -> list[ItemRow]:
    with ledger.engine.connect() as conn:
        q = select(items_table).where(items_table.c.plan_id == plan_id)
        if states:
            q = q.where(items_table.c.state.in_(states))
        return [_item(r) for r in conn.execute(q.order_by(items_table.c.item_no))]


def quarantined_items(ledger: Ledger) -> list[ItemRow]:
    with ledger.engine.connect() as conn:
        q = select(items_table).where(items_table.c.state == QUARANTINED)
        return [_item(r) for r in conn.execute(q.order_by(items_table.c.plan_id,
                                                          items_table.c.item_no))]


def current_digest(ledger: Ledger, plan_id: str) -> str:
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(items_table.c.item_no, items_table.c.root, items_table.c.rel,
                                   items_table.c.size, items_table.c.mtime_ns,
                                   items_table.c.sha256)
                            .where(items_table.c.plan_id == plan_id))
        return items_digest(tuple(r) for r in rows)


def record_deletion(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(deletions_table).values(**row))


def deletions(ledger: Ledger, *, plan_id: str | None = None) -> list[Any]:
    with ledger.engine.connect() as conn:
        q = select(deletions_table).order_by(deletions_table.c.seq)
        if plan_id:
            q = q.where(deletions_table.c.plan_id == plan_id)
        return list(conn.execute(q))


def counts(row: Any) -> dict[str, int]:
    return json.loads(row.counts)
