"""A school id on the scan catalog, the audit log and the backup records (a trust's
schools share a ledger).

Rows of a ledger made before this revision belong to the school ``default``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("scans", "audit", "backup_snapshots", "backup_restore_tests")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("school_id", sa.String(length=40), nullable=False,
                                       server_default="default"))
            batch.create_index(f"ix_{table}_school_id", ["school_id"])


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_school_id")
            batch.drop_column("school_id")
