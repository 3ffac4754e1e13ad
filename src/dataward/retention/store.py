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

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..errors import NotFoundError
from ..ledger import Ledger
from ..pipelines.approval import PLANNED, SUPERSEDED
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


def insert_plan(conn: Connection, plan_row: dict[str, Any], items: list[dict[str, Any]]) -> int:
    """Store a new plan; unapproved older plans are superseded (they were made from older
    exports, so approving one later could delete images of a pupil who came back).
    Returns how many were superseded."""
    superseded = conn.execute(update(plans_table).where(plans_table.c.status == PLANNED)
                              .values(status=SUPERSEDED)).rowcount
    conn.execute(insert(plans_table).values(**plan_row))
    items = [{**i, "plan_id": plan_row["plan_id"]} for i in items]
    for start in range(0, len(items), 5000):
        conn.execute(insert(items_table), items[start:start + 5000])
    return superseded


def get_plan(ledger: Ledger, plan_id: str) -> Any:
    """A plan row by id, or ``latest``."""
    with ledger.engine.connect() as conn:
        q = select(plans_table)
        if plan_id == "latest":
            q = q.order_by(plans_table.c.created.desc()).limit(1)
        else:
            q = q.where(plans_table.c.plan_id == plan_id)
        row = conn.execute(q).first()
    if row is None:
        raise NotFoundError(f"no retention plan {plan_id!r}",
                            hint="`dataward retention list` shows the plans")
    return row


def list_plans(ledger: Ledger, limit: int = 20) -> list[Any]:
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(plans_table)
                                 .order_by(plans_table.c.created.desc()).limit(limit)))


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


def set_plan(conn: Connection, plan_id: str, **values: Any) -> None:
    conn.execute(update(plans_table).where(plans_table.c.plan_id == plan_id).values(**values))


def set_item(conn: Connection, plan_id: str, item_no: int, **values: Any) -> None:
    conn.execute(update(items_table).where(items_table.c.plan_id == plan_id,
                                           items_table.c.item_no == item_no).values(**values))


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
