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
credentials from the usual ``AWS_*`` environment).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ..pipelines.outputs import read_findings, read_items
from .config import Trust
from .scan import PartSummary


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
        fs = pafs.S3FileSystem(
            endpoint_override=endpoint.split("://", 1)[-1] or None, scheme=scheme,
            region=trust.s3.region, access_key=os.environ.get("AWS_ACCESS_KEY_ID"),
            secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY"))
        return fs, where.removeprefix("s3://").rstrip("/")
    Path(where).mkdir(parents=True, exist_ok=True, mode=0o700)
    return pafs.LocalFileSystem(), str(Path(where).resolve())


def scan_date(scan_id: str) -> str:
    """The UTC date a scan started, from its id (``20261129T170102Z-ab12cd``)."""
    return f"{scan_id[0:4]}-{scan_id[4:6]}-{scan_id[6:8]}"


def _write(fs: pafs.FileSystem, path: str, table: pa.Table) -> None:
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    if isinstance(fs, pafs.LocalFileSystem):   # rename into place: readers never see half a file
        tmp = f"{path}.tmp"
        pq.write_table(table, tmp, compression="zstd", filesystem=fs)
        fs.move(tmp, path)
    else:                                      # an S3 PUT replaces an object whole
        pq.write_table(table, path, compression="zstd", filesystem=fs)


def write_parts(trust: Trust, parts: list[PartSummary]) -> DatasetWrite:
    """Add each part's latest items and findings to the trust dataset."""
    fs, root = filesystem(trust)
    files = items = findings = 0
    for p in parts:
        where = f"school={p.school_id}/scan_date={scan_date(p.scan_id)}/{p.part}.parquet"
        it = read_items(Path(p.out_dir))
        it = it.append_column("share", pa.array([p.share] * it.num_rows, pa.string()))
        fi = read_findings(Path(p.out_dir))
        _write(fs, f"{root}/items/{where}", it)
        _write(fs, f"{root}/findings/{where}", fi)
        files += 2
        items += it.num_rows
        findings += fi.num_rows
    return DatasetWrite(trust.results_location, files, items, findings)


def open_items(trust: Trust, *, latest_only: bool = True) -> ds.Dataset | pa.Table:
    """The trust's items; ``latest_only``: each school's newest scan date only."""
    fs, root = filesystem(trust)
    dataset = ds.dataset(f"{root}/items", filesystem=fs, format="parquet", partitioning="hive")
    if not latest_only:
        return dataset
    table = dataset.to_table()
    if table.num_rows == 0:
        return table
    latest = {r["school"]: r["scan_date_max"] for r in
              table.group_by("school").aggregate([("scan_date", "max")]).to_pylist()}
    keep = pc.equal(table["scan_date"], pa.array([latest[s] for s in table["school"].to_pylist()],
                                                 table.schema.field("scan_date").type))
    return table.filter(keep)
