"""Leavers' accounts: audits (counts only), disable plans and their items.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts_audits",
        sa.Column("audit_id", sa.String(length=40), nullable=False),
        sa.Column("created", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("directories", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("audit_id"),
    )
    op.create_table(
        "accounts_plans",
        sa.Column("plan_id", sa.String(length=40), nullable=False),
        sa.Column("audit_id", sa.String(length=40), nullable=False),
        sa.Column("created", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_os_user", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.String(length=32), nullable=True),
        sa.Column("applied_at", sa.String(length=32), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id"),
    )
    op.create_table(
        "accounts_plan_items",
        sa.Column("plan_id", sa.String(length=40), nullable=False),
        sa.Column("item_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("directory", sa.String(length=100), nullable=False),
        sa.Column("account_key", sa.String(length=100), nullable=False),
        sa.Column("masked", sa.String(length=200), nullable=False),
        sa.Column("person", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("uac_before", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("plan_id", "item_no"),
    )


def downgrade() -> None:
    op.drop_table("accounts_plan_items")
    op.drop_table("accounts_plans")
    op.drop_table("accounts_audits")
