"""The ledger tables of a job's plans that wait for a named approval (retention
deletions, disabling leavers' accounts): one plans table, one items table keyed by plan
and item number.

Storing a new plan supersedes every older plan still waiting for approval: it was made
from older inputs, so approving it later could act on what is no longer true (images of a
pupil who came back). A plan is found by its id or as ``latest`` (the newest made).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Table, insert, select, update
from sqlalchemy.engine import Connection

from ..errors import NotFoundError
from ..ledger import Ledger
from .approval import PLANNED, SUPERSEDED

INSERT_BATCH = 5000   # item rows per INSERT: a large plan in a few statements


class PlanTables:
    """A job's plans and items tables; ``job`` is its command group (``retention``)."""

    def __init__(self, plans: Table, items: Table, job: str) -> None:
        self.plans, self.items, self.job = plans, items, job

    def insert_plan(self, conn: Connection, row: dict[str, Any],
                    items: list[dict[str, Any]]) -> int:
        """Store a new plan and its items; returns how many waiting plans it superseded."""
        superseded = conn.execute(update(self.plans).where(self.plans.c.status == PLANNED)
                                  .values(status=SUPERSEDED)).rowcount
        conn.execute(insert(self.plans).values(**row))
        rows = [{**i, "plan_id": row["plan_id"]} for i in items]
        for start in range(0, len(rows), INSERT_BATCH):
            conn.execute(insert(self.items), rows[start:start + INSERT_BATCH])
        return superseded

    def get_plan(self, ledger: Ledger, plan_id: str) -> Row[Any]:
        """A plan row by id, or ``latest``."""
        with ledger.engine.connect() as conn:
            q = select(self.plans)
            q = (q.order_by(self.plans.c.created.desc()).limit(1) if plan_id == "latest"
                 else q.where(self.plans.c.plan_id == plan_id))
            row = conn.execute(q).first()
        if row is None:
            raise NotFoundError(f"no {self.job} plan {plan_id!r}",
                                hint=f"`dataward {self.job} list` shows the plans")
        return row

    def list_plans(self, ledger: Ledger, limit: int = 20) -> list[Row[Any]]:
        """The newest plans first."""
        with ledger.engine.connect() as conn:
            return list(conn.execute(select(self.plans)
                                     .order_by(self.plans.c.created.desc()).limit(limit)))

    def set_plan(self, conn: Connection, plan_id: str, **values: Any) -> None:
        conn.execute(update(self.plans).where(self.plans.c.plan_id == plan_id).values(**values))

    def set_item(self, conn: Connection, plan_id: str, item_no: int, **values: Any) -> None:
        conn.execute(update(self.items).where(self.items.c.plan_id == plan_id,
                                              self.items.c.item_no == item_no).values(**values))
