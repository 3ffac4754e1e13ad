"""Report benchmark: print figures, assert nothing.

Builds two synthetic scans of N items (default 100,000; a third hold personal data, with
about six findings each) in a temporary state folder, registers them in a real ledger as
a school's nightly scans, and times ``write_report`` for each format (the second scan,
compared with the first: changes, removals, trend). Beside it, a peer: pandas'
``DataFrame.to_html`` of the same items table, the naive "dump everything" report.
Target: HTML under 10 s for 100,000 items.

Each figure is the median of --repeat runs. Usage:
    python bench/report_bench.py [--items 100000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

AUDIENCES = {"staff": "staff", "pupils": "pupils", "admin": "admin", "office-mail": "external-mail"}
FOLDERS = ["Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6", "SEN", "Trips", "Letters",
           "Reports", "Minutes", "Photos"]


def synthetic_scan(out_dir: Path, scan_id: str, n: int, rng: np.random.Generator, root: Path,
                   drop: int = 0) -> tuple[int, int]:
    from dataward.pipelines.outputs import COUNT_COLUMNS, FINDINGS_SCHEMA, ITEMS_SCHEMA
    out_dir.mkdir(parents=True)
    idx = np.arange(drop, n + drop)
    sources = np.array(list(AUDIENCES))[idx % len(AUDIENCES)]
    folders = np.array(FOLDERS)[(idx // 7) % len(FOLDERS)]
    paths = [f"{root}/{s}/{f}/document-{i:06d}.docx" for s, f, i in zip(sources, folders, idx)]
    locators = ["file://" + p.replace(" ", "%20") for p in paths]
    has = rng.random(n) < 0.33
    counts = {c: np.where(has, rng.poisson(0.6, n), 0).astype(np.int32) for c in COUNT_COLUMNS}
    n_findings = sum(counts.values()).astype(np.int32)
    special = has & (counts["n_special_category"] > 0)
    score = n_findings * np.where(sources == "pupils", 3.0, 1.5)
    level = np.select([score >= 200, score >= 60, score >= 15, score > 0],
                      ["critical", "high", "medium", "low"], "none")
    status = np.where(rng.random(n) < 0.01, "encrypted", "ok")
    now = datetime.now(UTC)
    cols = {
        "scan_id": [scan_id] * n, "locator": locators, "source": sources.tolist(), "path": paths,
        "format": ["docx"] * n, "size": rng.integers(1_000, 5_000_000, n),
        "mtime": [now - timedelta(days=int(d)) for d in rng.integers(0, 900, n)],
        "mtime_ns": idx * 1000, "inode": idx + 10, "owner": ["office"] * n, "mode": ["640"] * n,
        "sha256": ["0" * 64] * n, "status": status.tolist(),
        "error": np.where(status == "encrypted", "password-protected docx", "").tolist(),
        "audience": [AUDIENCES[s] for s in sources], "change": ["unchanged"] * n,
        "n_findings": n_findings, **counts, "special_category": special,
        "special_categories": np.where(special, "health", "").tolist(),
        "risk_score": score.astype(float), "risk_level": level.tolist(),
    }
    items = pa.table({f.name: pa.array(cols[f.name], f.type) for f in ITEMS_SCHEMA})
    pq.write_table(items, out_dir / "items.parquet", compression="zstd")
    rows = np.repeat(np.arange(n), n_findings)
    f_cols = {
        "scan_id": [scan_id] * len(rows), "locator": [locators[i] for i in rows],
        "entity_type": ["UK_UPN"] * len(rows), "where": ["p1"] * len(rows),
        "offset": np.zeros(len(rows), np.int64), "score": np.full(len(rows), 0.9, np.float32),
        "recognizer": ["UkUpnRecognizer"] * len(rows), "preview": ["***********13"] * len(rows),
        "fingerprint": [f"{i:032x}" for i in rows], "category": [""] * len(rows),
    }
    findings = pa.table({f.name: pa.array(f_cols[f.name], f.type) for f in FINDINGS_SCHEMA})
    pq.write_table(findings, out_dir / "findings.parquet", compression="zstd")
    return n, len(rows)


def register(ledger, scan_id: str, out_dir: Path, started: str, items: int, findings: int) -> None:
    from dataward.ledger import scans_table
    t = pq.read_table(out_dir / "items.parquet", columns=["n_findings"])
    with_data = int((t["n_findings"].to_numpy() > 0).sum())
    with ledger.begin() as conn:
        conn.execute(scans_table.insert().values(
            scan_id=scan_id, started=started, finished=started, status="complete",
            mode="incremental", out_dir=str(out_dir), items=items, items_with_findings=with_data,
            findings=findings, errors=0, reused=items, bytes_read=0, summary=json.dumps({})))


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dw-report-bench-") as tmp:
        home = Path(tmp) / "home"
        os.environ["DATAWARD_HOME"] = str(home)
        from dataward.ledger import Ledger
        from dataward.pipelines.report import write_report
        from dataward.settings import load_settings
        root = Path(tmp) / "share"
        cfg = Path(tmp) / "dataward.yaml"
        cfg.write_text("school: {name: Bench Academy}\nsources:\n" + "".join(
            f"  - {{name: {s}, path: {root / s}, audience: {a}}}\n" for s, a in AUDIENCES.items()))
        settings = load_settings(cfg)
        rng = np.random.default_rng(7)
        t0 = time.perf_counter()
        with Ledger.for_settings(settings) as ledger:
            for k, (sid, drop) in enumerate((("20261101T010000Z-aaaaaa", 0),
                                             ("20261102T010000Z-bbbbbb", 1000))):
                out = settings.scans_dir / sid
                n, nf = synthetic_scan(out, sid, args.items, rng, root, drop=drop)
                register(ledger, sid, out, f"2026-11-0{k + 1}T01:00:00+00:00", n, nf)
        print(f"synthetic scans: 2 x {args.items:,} items, {nf:,} findings each "
              f"({time.perf_counter() - t0:.1f} s to build)")
        for fmt in ("html", "md", "csv"):
            secs, r = median_time(lambda fmt=fmt: write_report(settings, fmt=fmt,
                                                       out=Path(tmp) / f"r.{fmt}"), args.repeat)
            print(f"report {fmt:<4} {args.items:>9,} items: {secs:6.2f} s (median of "
                  f"{args.repeat}), {r.bytes / 1024:8.0f} KiB")
        import pandas as pd
        df = pd.read_parquet(settings.scans_dir / "20261102T010000Z-bbbbbb" / "items.parquet")
        secs, html = median_time(lambda: df.to_html(), args.repeat)
        print(f"peer: pandas DataFrame.to_html of every item: {secs:6.2f} s, "
              f"{len(html.encode()) / 1024:8.0f} KiB (no sections, no charts, not ranked)")


if __name__ == "__main__":
    main()
