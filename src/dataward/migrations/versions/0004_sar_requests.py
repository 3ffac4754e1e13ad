"""Subject access requests: the request, its legal due date and the person's fingerprints.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sar_requests',
    sa.Column('sar_id', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.String(length=32), nullable=False),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('os_user', sa.String(length=200), nullable=False),
    sa.Column('received', sa.String(length=10), nullable=False),
    sa.Column('due', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('fingerprints', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('closed_at', sa.String(length=32), nullable=True),
    sa.Column('package_id', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('sar_id')
    )


def downgrade() -> None:
    op.drop_table('sar_requests')
