"""The ledger of dataward 0.1.0.

dataward 0.1.0 created its tables with ``create_all`` as each part of it was first used,
so a ledger of that release may hold any subset of these tables: each one is created here
only when it is missing, which makes this revision the upgrade path for such ledgers too.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _create(name: str, *columns: Any) -> None:
    if not sa.inspect(op.get_bind()).has_table(name):
        op.create_table(name, *columns)


def upgrade() -> None:
    _create('asset_evidence',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('stored_path', sa.Text(), nullable=False),
    sa.Column('added', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    _create('assets',
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('make', sa.String(length=200), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('serial', sa.String(length=200), nullable=False),
    sa.Column('storage_serials', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('assigned_to', sa.String(length=200), nullable=False),
    sa.Column('purchase_date', sa.String(length=10), nullable=True),
    sa.Column('has_storage', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created', sa.String(length=32), nullable=False),
    sa.Column('updated', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('tag')
    )
    _create('audit',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('ts', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    _create('backup_restore_tests',
    sa.Column('test_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('time', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('files_checked', sa.Integer(), nullable=False),
    sa.Column('files_matched', sa.Integer(), nullable=False),
    sa.Column('files_failed', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('test_id')
    )
    _create('backup_snapshots',
    sa.Column('snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('time', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('bytes_new', sa.Integer(), nullable=False),
    sa.Column('bytes_uploaded', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('snapshot_id', 'target')
    )
    _create('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    _create('retention_deletions',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('item_no', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=False),
    sa.Column('quarantined_at', sa.String(length=32), nullable=False),
    sa.Column('purged_at', sa.String(length=32), nullable=False),
    sa.Column('method', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    _create('retention_items',
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('item_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('root', sa.Text(), nullable=False),
    sa.Column('rel', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('mtime_ns', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('pupils', sa.Text(), nullable=False),
    sa.Column('matched_by', sa.Text(), nullable=False),
    sa.Column('due_on', sa.String(length=10), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('qpath', sa.Text(), nullable=True),
    sa.Column('quarantined_at', sa.String(length=32), nullable=True),
    sa.Column('restored_at', sa.String(length=32), nullable=True),
    sa.Column('purged_at', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('plan_id', 'item_no')
    )
    _create('retention_plans',
    sa.Column('plan_id', sa.String(length=40), nullable=False),
    sa.Column('created', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('as_of', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('approved_at', sa.String(length=32), nullable=True),
    sa.Column('approved_digest', sa.String(length=64), nullable=True),
    sa.Column('applied_at', sa.String(length=32), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('rules_digest', sa.String(length=64), nullable=False),
    sa.Column('inputs', sa.Text(), nullable=False),
    sa.Column('roots', sa.Text(), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('images', sa.Integer(), nullable=False),
    sa.Column('due', sa.Integer(), nullable=False),
    sa.Column('due_bytes', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('plan_id')
    )
    _create('scans',
    sa.Column('scan_id', sa.String(length=40), nullable=False),
    sa.Column('started', sa.String(length=32), nullable=False),
    sa.Column('finished', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('out_dir', sa.Text(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=True),
    sa.Column('items_with_findings', sa.Integer(), nullable=True),
    sa.Column('findings', sa.Integer(), nullable=True),
    sa.Column('errors', sa.Integer(), nullable=True),
    sa.Column('reused', sa.Integer(), nullable=True),
    sa.Column('bytes_read', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('scan_id')
    )
    _create('transfer_packages',
    sa.Column('package_id', sa.String(length=16), nullable=False),
    sa.Column('created', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('recipient', sa.String(length=300), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('key_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=False),
    sa.Column('total_size', sa.Integer(), nullable=False),
    sa.Column('package_size', sa.Integer(), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('package_sha256', sa.String(length=64), nullable=False),
    sa.Column('scan_status', sa.String(length=20), nullable=False),
    sa.Column('entity_counts', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('confirmed', sa.String(length=32), nullable=True),
    sa.Column('confirmed_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('package_id')
    )
    _create('asset_disposals',
    sa.Column('disposal_id', sa.String(length=40), nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.Column('disposed_on', sa.String(length=10), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=False),
    sa.Column('recorded', sa.String(length=32), nullable=False),
    sa.Column('certificate', sa.Text(), nullable=False),
    sa.Column('json_path', sa.Text(), nullable=False),
    sa.Column('json_sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf_path', sa.Text(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('signing_key', sa.String(length=64), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tag'], ['assets.tag'], ),
    sa.PrimaryKeyConstraint('disposal_id'),
    sa.UniqueConstraint('tag')
    )
    _create('asset_disposal_evidence',
    sa.Column('disposal_id', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['disposal_id'], ['asset_disposals.disposal_id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['asset_evidence.sha256'], ),
    sa.PrimaryKeyConstraint('disposal_id', 'sha256')
    )


def downgrade() -> None:
    op.drop_table('asset_disposal_evidence')
    op.drop_table('asset_disposals')
    op.drop_table('transfer_packages')
    op.drop_table('scans')
    op.drop_table('retention_plans')
    op.drop_table('retention_items')
    op.drop_table('retention_deletions')
    op.drop_table('meta')
    op.drop_table('backup_snapshots')
    op.drop_table('backup_restore_tests')
    op.drop_table('audit')
    op.drop_table('assets')
    op.drop_table('asset_evidence')
