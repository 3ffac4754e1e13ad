"""Alembic migrations of the ledger schema (``dataward.schema``), run by ``Ledger`` on open.

Each release that changes a table adds one revision under ``versions/``. The first,
``0001``, is the schema of dataward 0.1.0 exactly as that release created it, so a ledger
made by 0.1.0 (which had no Alembic version table) is stamped ``0001`` and upgraded from
there. Revisions use only ``op.*`` calls that SQLite and PostgreSQL both run (batch mode
for SQLite's ALTER TABLE limits).
"""
