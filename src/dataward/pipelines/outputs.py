"""The Parquet files a scan writes, as DESIGN.md defines them, and reading them back.

items.parquet: one row per item. findings.parquet: one row per occurrence, holding a masked
preview and a fingerprint, never a value."""
from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..classifiers.risk import ENTITY_TYPES

if TYPE_CHECKING:
    from ..classifiers.column_check import ColumnFindings

# One row of items.parquet or findings.parquet: its keys are columns of the schema, which
# `table_of` checks when the rows are written.
TableRow = dict[str, Any]

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
    # SMB items: who can read it, and the folder each permission is inherited from.
    ("readers", pa.string()), ("readers_from", pa.string()),
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


def table_of(rows: list[TableRow], schema: pa.Schema) -> pa.Table:
    """Rows as a table of ``schema``. A key the schema does not have (a misspelt column)
    raises ValueError naming the key: ``pa.Table.from_pylist`` alone drops it silently."""
    names = frozenset(schema.names)
    for row in rows:
        if not names.issuperset(row):
            unknown = ", ".join(sorted(set(row) - names))
            raise ValueError(f"row has columns the Parquet schema does not: {unknown}")
    return pa.Table.from_pylist(rows, schema=schema)


def write_table(rows: list[TableRow] | pa.Table, schema: pa.Schema, path: Path) -> None:
    table = rows if isinstance(rows, pa.Table) else table_of(rows, schema)
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


# ---- findings as Arrow batches ---------------------------------------------------------
# A dense export holds hundreds of thousands of findings: they travel as columns (one
# Arrow array per field), never as one dict per row, and are written as they arrive.
FINDING_FIELDS = ("entity_type", "where", "offset", "score", "recognizer", "preview",
                  "fingerprint", "category", "via")
# Rows gathered before a row group is written; rows an item keeps in memory before its
# findings are spooled to disk (when the scan gave it a spool folder).
ROW_GROUP_ROWS = 128 * 1024
SPOOL_ROWS = 256 * 1024


def findings_table(findings: Sequence[tuple[object, ...]], locator: str, scan_id: str) -> pa.Table:
    """Findings (tuples in ``FINDING_FIELDS`` order, e.g. the engine's ``Finding``) as a
    table of ``FINDINGS_SCHEMA``, built column by column."""
    n = len(findings)
    if not n:
        return FINDINGS_SCHEMA.empty_table()
    columns = dict(zip(FINDING_FIELDS, zip(*findings)))
    arrays = {"scan_id": pa.repeat(pa.scalar(scan_id, pa.string()), n),
              "locator": pa.repeat(pa.scalar(locator, pa.string()), n)}
    for name in FINDING_FIELDS:
        arrays[name] = pa.array(columns[name], FINDINGS_SCHEMA.field(name).type)
    return pa.table([arrays[f.name] for f in FINDINGS_SCHEMA], schema=FINDINGS_SCHEMA)


def column_findings_table(batch: ColumnFindings, locator: str, scan_id: str) -> pa.Table:
    """One identifier column's findings (``classifiers.column_check``) as a table of
    ``FINDINGS_SCHEMA``: what is the same for every row is one repeated value, the
    cells' places are made from their row numbers in Arrow."""
    n = len(batch)
    if not n:
        return FINDINGS_SCHEMA.empty_table()
    string = pa.string()

    def same(value: object, field: str) -> pa.Array:
        return pa.repeat(pa.scalar(value, FINDINGS_SCHEMA.field(field).type), n)

    if batch.labels is not None:
        where = pa.array(batch.labels, string)
    else:
        numbers = pc.cast(pc.add(pa.array(batch.rows, pa.int64()), 1), string)
        where = pc.binary_join_element_wise(pa.scalar(batch.prefix, string), numbers, "")
    scores = batch.scores
    score = (same(scores[0], "score") if scores.count(scores[0]) == n
             else pa.array(scores, pa.float32()))
    arrays = {"scan_id": same(scan_id, "scan_id"), "locator": same(locator, "locator"),
              "entity_type": same(batch.entity_type, "entity_type"), "where": where,
              "offset": same(-1, "offset"), "score": score,
              "recognizer": same(batch.recognizer, "recognizer"),
              "preview": pa.array(batch.previews, string),
              "fingerprint": pa.array(batch.fingerprints, string),
              "category": same("", "category"), "via": same("", "via")}
    return pa.table([arrays[f.name] for f in FINDINGS_SCHEMA], schema=FINDINGS_SCHEMA)


class FindingsBuffer:
    """One item's findings tables. Past ``SPOOL_ROWS`` rows they go to a Parquet file in
    ``spool_dir`` (the scan's work folder), so a dense item's findings do not have to fit
    in a worker's memory limit, nor travel back through its pipe in one message."""

    def __init__(self, spool_dir: Path | None = None) -> None:
        self.spool_dir = spool_dir
        self.tables: list[pa.Table] = []
        self.rows_in_memory = 0
        self.spool: Path | None = None
        self._writer: pq.ParquetWriter | None = None

    def add(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self.tables.append(table)
        self.rows_in_memory += table.num_rows
        if self.spool_dir is not None and self.rows_in_memory >= SPOOL_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._writer is None:
            assert self.spool_dir is not None
            self.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, name = tempfile.mkstemp(prefix="findings-", suffix=".parquet", dir=self.spool_dir)
            os.close(fd)
            self.spool = Path(name)
            self._writer = pq.ParquetWriter(self.spool, FINDINGS_SCHEMA, compression="zstd")
        self._writer.write_table(pa.concat_tables(self.tables))
        self.tables, self.rows_in_memory = [], 0

    def result(self) -> tuple[pa.Table, Path | None]:
        """(findings kept in memory, spool file with the rest or None)."""
        if self._writer is not None:
            if self.tables:
                self._flush()
            self._writer.close()
            self._writer = None
        # No findings: an empty table made without ``Schema.empty_table()``, which imports
        # pandas (0.15 s of CPU in each worker that reads an item with none).
        table = (pa.concat_tables(self.tables) if self.tables
                 else pa.Table.from_batches([], schema=FINDINGS_SCHEMA))
        self.tables = []
        return table, self.spool


class FindingsWriter:
    """findings.parquet written batch by batch as items finish (row groups of about
    ``ROW_GROUP_ROWS``), counting rows per entity on the way; nothing holds every finding
    of a scan at once. ``close()`` renames the finished file into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp = path.with_suffix(".tmp")
        self._writer = pq.ParquetWriter(self._tmp, FINDINGS_SCHEMA, compression="zstd")
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows = 0
        self.by_entity: Counter[str] = Counter()

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        table = table.select(FINDINGS_SCHEMA.names).cast(FINDINGS_SCHEMA)
        for row in pc.value_counts(table["entity_type"]).to_pylist():
            self.by_entity[row["values"]] += row["counts"]
        self.rows += table.num_rows
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def write_spool(self, spool: Path) -> None:
        """Copy an item's spool file in (batch by batch) and delete it."""
        for batch in pq.ParquetFile(spool).iter_batches(batch_size=ROW_GROUP_ROWS):
            self.write(pa.Table.from_batches([batch]))
        spool.unlink()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.concat_tables(self._pending),
                                     row_group_size=max(ROW_GROUP_ROWS, self._pending_rows))
        self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()
        self._tmp.replace(self.path)

    def abort(self) -> None:
        self._writer.close()
        self._tmp.unlink(missing_ok=True)
