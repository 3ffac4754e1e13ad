"""Ledger tables of the asset register, disposals and erasure evidence (declared in
``dataward.schema``).

Names of people (assigned to, technician, authoriser, recipient) live in these tables,
the register where they belong, and never in the audit log or logs.
"""
from __future__ import annotations

from ..schema import assets_table, disposal_evidence_table, disposals_table, evidence_table

__all__ = ["assets_table", "disposal_evidence_table", "disposals_table", "evidence_table"]
