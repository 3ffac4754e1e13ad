"""The Parquet files a scan writes, as DESIGN.md defines them, and reading them back.

items.parquet: one row per item. findings.parquet: one row per occurrence, holding a masked
preview and a fingerprint, never a value."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..classifiers.risk import ENTITY_TYPES

COUNT_COLUMNS = tuple(f"n_{e.lower()}" for e in ENTITY_TYPES)

ITEMS_SCHEMA = pa.schema([
    ("scan_id", pa.string()), ("locator", pa.string()), ("source", pa.string()),
    ("path", pa.string()), ("format", pa.string()), ("size", pa.int64()),
    ("mtime", pa.timestamp("us", tz="UTC")), ("mtime_ns", pa.int64()), ("inode", pa.int64()),
    ("owner", pa.string()), ("mode", pa.string()), ("sha256", pa.string()),
    ("status", pa.string()), ("error", pa.string()), ("audience", pa.string()),
    ("change", pa.string()), ("n_findings", pa.int32()),
    *[(c, pa.int32()) for c in COUNT_COLUMNS],
    ("special_category", pa.bool_()), ("special_categories", pa.string()),
    ("risk_score", pa.float64()), ("risk_level", pa.string()),
    ("taken", pa.string()),  # a photo's camera date, "YYYY-MM-DD HH:MM"
    # Text recognition: "" (no picture of text), read, partial, needed (not recognised).
    ("ocr", pa.string()),
])

FINDINGS_SCHEMA = pa.schema([
    ("scan_id", pa.string()), ("locator", pa.string()), ("entity_type", pa.string()),
    ("where", pa.string()), ("offset", pa.int64()), ("score", pa.float32()),
    ("recognizer", pa.string()), ("preview", pa.string()), ("fingerprint", pa.string()),
    ("category", pa.string()),
    ("via", pa.string()),  # "ocr": found in text recognised from a picture; else ""
])

# One row per item with text: the keyed Bloom filter of its words (classifiers.name_index),
# so a roster change finds new names in unchanged files without reading them all.
NAME_INDEX_SCHEMA = pa.schema([("locator", pa.string()), ("tokens", pa.binary())])

ITEMS_FILE = "items.parquet"
FINDINGS_FILE = "findings.parquet"
NAME_INDEX_FILE = "name_index.parquet"


def write_table(rows: list[dict] | pa.Table, schema: pa.Schema, path: Path) -> None:
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table.cast(schema), tmp, compression="zstd")
    tmp.replace(path)


def _with_columns(table: pa.Table, schema: pa.Schema) -> pa.Table:
    for field in schema:
        if field.name not in table.column_names:
            table = table.append_column(field, pa.nulls(table.num_rows, field.type))
    return table.select(schema.names)


def read_items(scan_dir: Path) -> pa.Table:
    """A scan's items, with any column a newer dataward added filled with nulls."""
    return _with_columns(pq.read_table(scan_dir / ITEMS_FILE), ITEMS_SCHEMA)


def read_findings(scan_dir: Path) -> pa.Table:
    """A scan's findings, with any column a newer dataward added (``via``) filled with nulls."""
    return _with_columns(pq.read_table(scan_dir / FINDINGS_FILE), FINDINGS_SCHEMA)
