"""Review decisions record the problem they were about and can be withdrawn; remediation items record the step a move across
file systems reached, the metadata kept by a rename and the content it left.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_decisions') as batch:
        batch.add_column(sa.Column('problem', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('withdrawn_at', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('withdrawn_by', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('withdrawn_os_user', sa.String(length=200), nullable=True))
    with op.batch_alter_table('remediation_items') as batch:
        batch.add_column(sa.Column('metadata_status', sa.Text(), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('new_sha256', sa.String(length=64), nullable=False,
                                   server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('remediation_items') as batch:
        batch.drop_column('new_sha256')
        batch.drop_column('metadata_status')
    with op.batch_alter_table('review_decisions') as batch:
        batch.drop_column('withdrawn_os_user')
        batch.drop_column('withdrawn_by')
        batch.drop_column('withdrawn_at')
        batch.drop_column('problem')
