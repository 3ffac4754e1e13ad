"""The disposal register for audit: one row per disposal, flat, as CSV or Parquet."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..cells import write_csv
from ..errors import UsageError
from ..ledger import Ledger
from .tables import disposals_table

COLUMNS = [
    "certificate_id", "asset_tag", "asset_type", "make", "model", "serial", "media_serials",
    "disposed_on", "method_type", "technique", "tool", "verification_method", "route",
    "recipient", "media_destination", "authorised_by", "personal_data_likely_held",
    "software_licensing_verified", "pat_test_date", "weee_transfer_note",
    "erasure_passed", "evidence_sha256", "technician", "validated_by", "json_sha256",
    "pdf_sha256", "signing_key", "audit_seq",
]


def _flatten(row: Any) -> dict[str, Any]:
    c = json.loads(row.certificate)
    a, s, d, au = c["asset"], c["sanitization"], c["disposal"], c["authorisation"]
    wipes = c["erasure_results"]
    return {
        "certificate_id": row.disposal_id, "asset_tag": row.tag, "asset_type": a["type"],
        "make": a["make"], "model": a["model"], "serial": a["serial"],
        "media_serials": "; ".join(m["serial"] for m in c["media"]),
        "disposed_on": row.disposed_on, "method_type": s["method_type"],
        "technique": s["technique"], "tool": s["tool"],
        "verification_method": s["verification_method"], "route": d["route"],
        "recipient": d["recipient"], "media_destination": d["media_destination"],
        "authorised_by": au["authorised_by"],
        "personal_data_likely_held": au["personal_data_likely_held"],
        "software_licensing_verified": au["software_licensing_verified"],
        "pat_test_date": d["pat_test_date"], "weee_transfer_note": d["weee_transfer_note"],
        "erasure_passed": (all(w["result"] == "passed" for w in wipes) if wipes else None),
        "evidence_sha256": "; ".join(e["sha256"] for e in c["evidence"]),
        "technician": c["sanitized_by"]["name"], "validated_by": c["validation"]["name"],
        "json_sha256": row.json_sha256, "pdf_sha256": row.pdf_sha256,
        "signing_key": row.signing_key, "audit_seq": row.audit_seq,
    }


def disposal_rows(ledger: Ledger, *, year: int | None = None) -> list[dict[str, Any]]:
    q = select(disposals_table).order_by(disposals_table.c.disposed_on,
                                         disposals_table.c.disposal_id)
    if year is not None:
        q = q.where(disposals_table.c.disposed_on.startswith(f"{year:04d}-"))
    with ledger.engine.connect() as conn:
        return [_flatten(r) for r in conn.execute(q)]


def export_register(ledger: Ledger, out: Path, *, fmt: str, year: int | None = None) -> int:
    """Write the register to ``out``; returns the number of disposals written."""
    rows = disposal_rows(ledger, year=year)
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as fh:
            write_csv(fh, COLUMNS, ([r[c] for c in COLUMNS] for r in rows))
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c, pa.bool_() if c in ("software_licensing_verified",
                                                     "erasure_passed")
                             else pa.int64() if c == "audit_seq" else pa.string())
                            for c in COLUMNS])
        table = pa.Table.from_pylist(rows, schema=schema)
        pq.write_table(table, out)
    else:
        raise UsageError(f"unknown format {fmt!r}: use csv or parquet")
    return len(rows)
