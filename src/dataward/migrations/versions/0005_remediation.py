"""Remediation plans: exposed files moved into a restricted folder, images renamed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('remediation_plans',
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('created', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('dest_root', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('approved_os_user', sa.String(length=200), nullable=True),
    sa.Column('approved_at', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('plan_id')
    )
    op.create_table('remediation_items',
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('item_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item_id', sa.String(length=16), nullable=False),
    sa.Column('root', sa.Text(), nullable=False),
    sa.Column('rel', sa.Text(), nullable=False),
    sa.Column('dest_root', sa.Text(), nullable=False),
    sa.Column('dest_rel', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['remediation_plans.plan_id'], ),
    sa.PrimaryKeyConstraint('plan_id', 'item_no')
    )


def downgrade() -> None:
    op.drop_table('remediation_items')
    op.drop_table('remediation_plans')
