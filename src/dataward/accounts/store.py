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

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from ..ledger import Ledger
from ..pipelines.approval import PLANNED as PLANNED  # the states every job's plans share
from ..pipelines.approval import SUPERSEDED as SUPERSEDED
from ..pipelines.plan_tables import PlanTables
from ..schema import accounts_audits_table as audits_table
from ..schema import accounts_items_table as items_table
from ..schema import accounts_plans_table as plans_table

APPROVED, APPLIED = "approved", "applied"
WAITING, DISABLED, RESTORED, SKIPPED = "planned", "disabled", "restored", "skipped"

def insert_audit(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(audits_table).values(**row))


_tables = PlanTables(plans_table, items_table, "accounts")
insert_plan, get_plan, list_plans = _tables.insert_plan, _tables.get_plan, _tables.list_plans
set_plan, set_item = _tables.set_plan, _tables.set_item


def plan_items(ledger: Ledger, plan_id: str) -> list[Any]:
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(items_table).where(items_table.c.plan_id == plan_id)
                                 .order_by(items_table.c.item_no)))


def latest_audit(ledger: Ledger) -> Any | None:
    with ledger.engine.connect() as conn:
        return conn.execute(select(audits_table).order_by(audits_table.c.created.desc())
                            .limit(1)).first()


def counts(row: Any) -> dict[str, int]:
    return json.loads(row.counts)
