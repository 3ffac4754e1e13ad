"""Ledger tables of the accounts audit: each audit's counts (for the DPO report), the
disable plans, and their items.

Items hold the directory, the account's key (an objectGUID), the masked account name, a
reference to the person (a keyed hash) and the reason: never a name. ``uac_before`` is
the account's userAccountControl when planned: apply refuses an account changed since,
and undo puts back only the bit dataward set.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..errors import NotFoundError
from ..ledger import Ledger
from ..pipelines.approval import PLANNED, SUPERSEDED
from ..schema import accounts_audits_table as audits_table
from ..schema import accounts_items_table as items_table
from ..schema import accounts_plans_table as plans_table

APPROVED, APPLIED = "approved", "applied"
WAITING, DISABLED, RESTORED, SKIPPED = "planned", "disabled", "restored", "skipped"

def insert_audit(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(audits_table).values(**row))


def insert_plan(conn: Connection, row: dict[str, Any], items: list[dict[str, Any]]) -> int:
    superseded = conn.execute(update(plans_table).where(plans_table.c.status == PLANNED)
                              .values(status=SUPERSEDED)).rowcount
    conn.execute(insert(plans_table).values(**row))
    if items:
        conn.execute(insert(items_table), [{**i, "plan_id": row["plan_id"]} for i in items])
    return superseded


def get_plan(ledger: Ledger, plan_id: str) -> Any:
    with ledger.engine.connect() as conn:
        q = select(plans_table)
        q = (q.order_by(plans_table.c.created.desc()).limit(1) if plan_id == "latest"
             else q.where(plans_table.c.plan_id == plan_id))
        row = conn.execute(q).first()
    if row is None:
        raise NotFoundError(f"no accounts plan {plan_id!r}",
                            hint="`dataward accounts list` shows the plans")
    return row


def list_plans(ledger: Ledger, limit: int = 20) -> list[Any]:
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(plans_table).order_by(plans_table.c.created.desc())
                                 .limit(limit)))


def plan_items(ledger: Ledger, plan_id: str) -> list[Any]:
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(items_table).where(items_table.c.plan_id == plan_id)
                                 .order_by(items_table.c.item_no)))


def set_plan(conn: Connection, plan_id: str, **values: Any) -> None:
    conn.execute(update(plans_table).where(plans_table.c.plan_id == plan_id).values(**values))


def set_item(conn: Connection, plan_id: str, item_no: int, **values: Any) -> None:
    conn.execute(update(items_table).where(items_table.c.plan_id == plan_id,
                                           items_table.c.item_no == item_no).values(**values))


def latest_audit(ledger: Ledger) -> Any | None:
    with ledger.engine.connect() as conn:
        return conn.execute(select(audits_table).order_by(audits_table.c.created.desc())
                            .limit(1)).first()


def counts(row: Any) -> dict[str, int]:
    return json.loads(row.counts)
