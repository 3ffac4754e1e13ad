"""The trust's results: one Parquet dataset, partitioned by school and scan date.

```
<results>/items/school=<id>/scan_date=<YYYY-MM-DD>/<part>.parquet
<results>/findings/school=<id>/scan_date=<YYYY-MM-DD>/<part>.parquet
```
Hive partitioning, so ``pyarrow.dataset.dataset(root, partitioning="hive")`` and DuckDB's
``read_parquet('<root>/items/*/*/*.parquet', hive_partitioning=true)`` read it without
dataward. The rows are the part's items.parquet and findings.parquet as the school's own
scan wrote them (masked previews and fingerprints, never values), with the share a part
came from in ``share``. A part's file is named after the part only, so scanning a part
again the same day replaces its file: a day's partition holds each part once, never twice.
``<results>`` is a folder or ``s3://bucket/prefix`` (endpoint from the trust file,
credentials from the usual AWS places for writing, ``AWS_*`` environment for reading).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ..connectors.objectstore import ObjectStore, open_store
from ..pipelines.outputs import read_findings, read_items
from .config import Trust
from .outcome import PartSummary


@dataclass(frozen=True)
class DatasetWrite:
    root: str
    files: int
    items: int
    findings: int


def filesystem(trust: Trust) -> tuple[pafs.FileSystem, str]:
    """The results filesystem and the root path inside it."""
    where = trust.results_location
    if where.startswith("s3://"):
        endpoint = trust.s3.endpoint_url or ""
        scheme = "http" if endpoint.startswith("http://") else "https"
        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        fs = pafs.S3FileSystem(
            endpoint_override=endpoint.split("://", 1)[-1] or None, scheme=scheme,
            region=trust.s3.region, access_key=key, secret_key=secret,
            anonymous=not (key and secret))     # a store that allows anonymous reads
        return fs, where.removeprefix("s3://").rstrip("/")
    return pafs.LocalFileSystem(), str(Path(where).resolve())


def scan_date(scan_id: str) -> str:
    """The UTC date a scan started, from its id (``20261129T170102Z-ab12cd``)."""
    return f"{scan_id[0:4]}-{scan_id[4:6]}-{scan_id[6:8]}"


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def write_part(trust: Trust, p: PartSummary) -> tuple[int, int]:
    """Write one scanned part's items and findings into the dataset; their row counts.

    Run on the worker that scanned the part, as soon as its scan completes, so the flow
    waits for no writing at the end of the night. Written through dataward's object
    store (a folder: temporary file, fsync, rename; S3: one PUT per object), so a reader
    never sees half a file."""
    store = _store(trust)
    key = f"school={p.school_id}/scan_date={scan_date(p.scan_id)}/{p.part}.parquet"
    it = read_items(Path(p.out_dir))
    it = it.append_column("share", pa.array([p.share] * it.num_rows, pa.string()))
    fi = read_findings(Path(p.out_dir))
    store.put(f"items/{key}", _parquet_bytes(it))
    store.put(f"findings/{key}", _parquet_bytes(fi))
    return it.num_rows, fi.num_rows


# One store per results location and worker process (an S3 client is slow to make; it
# takes its credentials from the usual AWS places when made, so a worker started again
# picks up new ones).
_STORES: dict[tuple[str, str | None, str], ObjectStore] = {}


def _store(trust: Trust) -> ObjectStore:
    key = (trust.results_location, trust.s3.endpoint_url, trust.s3.region)
    if key not in _STORES:
        _STORES[key] = open_store(key[0], endpoint_url=key[1], region=key[2])
    return _STORES[key]


def write_parts(trust: Trust, parts: list[PartSummary]) -> DatasetWrite:
    """Add each part's latest items and findings to the trust dataset (see write_part)."""
    items = findings = 0
    for p in parts:
        rows, found = write_part(trust, p)
        items, findings = items + rows, findings + found
    return DatasetWrite(trust.results_location, 2 * len(parts), items, findings)


def written(trust: Trust, parts: list[PartSummary]) -> DatasetWrite:
    """What the workers wrote for these parts (each part's files hold its scan's rows)."""
    return DatasetWrite(trust.results_location, 2 * len(parts),
                        sum(p.items for p in parts), sum(p.findings for p in parts))


def items_dataset(trust: Trust) -> ds.Dataset | None:
    """The trust's items dataset (None before the first scan wrote to it)."""
    fs, root = filesystem(trust)
    try:
        return ds.dataset(f"{root}/items", filesystem=fs, format="parquet", partitioning="hive")
    except FileNotFoundError:
        return None


def latest_dates(dataset: ds.Dataset) -> dict[str, object]:
    """Each school's newest scan date, from the partition folders alone (no rows read)."""
    latest: dict[str, object] = {}
    for fragment in dataset.get_fragments():
        keys = ds.get_partition_keys(fragment.partition_expression)
        school, date = keys.get("school"), keys.get("scan_date")
        if school is not None and date is not None and (
                school not in latest or str(date) > str(latest[school])):
            latest[school] = date
    return latest


def school_items(dataset: ds.Dataset, school_id: str, date: object,
                 columns: list[str] | None = None) -> pa.Table:
    """One school's items of one scan date: only that partition's files are read."""
    if columns is not None:
        columns = [c for c in columns if c in dataset.schema.names]
    return dataset.to_table(columns=columns, filter=(ds.field("school") == school_id)
                            & (ds.field("scan_date") == date))
