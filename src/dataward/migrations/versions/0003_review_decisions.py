"""DPO review decisions: accepted, to-fix and false-positive marks that last across scans.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_decisions',
    sa.Column('decision_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('decided_at', sa.String(length=32), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('os_user', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.String(length=16), nullable=False),
    sa.Column('scan_id', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('inode', sa.BigInteger(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('mtime_ns', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('expires', sa.String(length=10), nullable=True),
    sa.Column('entity_type', sa.String(length=40), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('decision_id')
    )


def downgrade() -> None:
    op.drop_table('review_decisions')
