"""Ledger tables of the asset register, disposals and erasure evidence.

Names of people (assigned to, technician, authoriser, recipient) live in these tables,
the register where they belong, and never in the audit log or logs.
"""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text

from ..ledger import metadata

assets_table = Table(
    "assets", metadata,
    Column("tag", String(100), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("make", String(200), nullable=False, default=""),
    Column("model", String(200), nullable=False, default=""),
    Column("serial", String(200), nullable=False, default=""),
    Column("storage_serials", Text, nullable=False, default="[]"),  # JSON list
    Column("location", String(200), nullable=False, default=""),
    Column("assigned_to", String(200), nullable=False, default=""),
    Column("purchase_date", String(10)),  # ISO date or NULL
    Column("has_storage", Integer, nullable=False, default=1),
    Column("status", String(20), nullable=False, default="in-use"),  # in-use | disposed
    Column("created", String(32), nullable=False),
    Column("updated", String(32), nullable=False),
)

evidence_table = Table(
    "asset_evidence", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("kind", String(30), nullable=False),  # nwipe-log | pdf | other
    Column("size", Integer, nullable=False),
    Column("file_name", String(300), nullable=False),
    Column("stored_path", Text, nullable=False),
    Column("added", String(32), nullable=False),
    Column("summary", Text, nullable=False, default="{}"),  # JSON: parsed wipe results
)

disposals_table = Table(
    "asset_disposals", metadata,
    Column("disposal_id", String(40), primary_key=True),
    # unique: an asset is disposed of once
    Column("tag", String(100), ForeignKey("assets.tag"), nullable=False, unique=True),
    Column("disposed_on", String(10), nullable=False),  # ISO date
    Column("method", String(20), nullable=False),  # clear | purge | destroy
    Column("route", String(20), nullable=False),  # waste | gift | sale | return
    Column("recorded", String(32), nullable=False),
    # The canonical JSON of the certificate: the register's copy of what was signed.
    Column("certificate", Text, nullable=False),
    Column("json_path", Text, nullable=False),
    Column("json_sha256", String(64), nullable=False),
    Column("pdf_path", Text, nullable=False),
    Column("pdf_sha256", String(64), nullable=False),
    Column("signing_key", String(64), nullable=False),
    Column("audit_seq", Integer, nullable=False),
)

disposal_evidence_table = Table(
    "asset_disposal_evidence", metadata,
    Column("disposal_id", String(40), ForeignKey("asset_disposals.disposal_id"),
           primary_key=True),
    Column("sha256", String(64), ForeignKey("asset_evidence.sha256"), primary_key=True),
    Column("role", String(30), nullable=False),  # erasure | destruction | pat | receipt
)
