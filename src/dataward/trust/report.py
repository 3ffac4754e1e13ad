"""The trust DPO's page: every school side by side, each school's own page linked.

Built from the trust's Parquet dataset (the newest scan date of each school) and from
each school's rows of the shared ledger (parts that could not be read, last backup and
restore test), never from the files themselves, so a trust of 20 schools x 50,000 items
renders in seconds. Only counts, statuses, dates, paths and risk levels are shown: never
a personal value (the dataset holds none).
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..backup.records import last_restore_test, last_snapshot
from ..home import open_ledger
from .config import Trust
from .results import open_items

COLUMNS = ["school", "scan_date", "path", "audience", "n_findings", "special_category",
           "risk_score", "risk_level", "share"]
TOP = 50


@dataclass
class SchoolRow:
    school_id: str
    scan_date: str = ""
    items: int = 0
    with_personal_data: int = 0
    high: int = 0
    special_pupil: int = 0
    not_read: dict[str, str] = field(default_factory=dict)
    last_backup: str = ""
    last_restore_test: str = ""
    page: str = ""


@dataclass(frozen=True)
class TrustReport:
    path: Path
    schools: list[SchoolRow]


def _figures(table: pa.Table) -> dict[str, dict[str, int]]:
    t = table.select(["school", "n_findings", "special_category", "risk_level", "audience"])
    t = t.append_column("pd", pc.cast(pc.greater(t["n_findings"], 0), pa.int64()))
    t = t.append_column("hi", pc.cast(pc.is_in(t["risk_level"], pa.array(["high", "critical"])),
                                      pa.int64()))
    sp = pc.and_(pc.fill_null(t["special_category"], False), pc.equal(t["audience"], "pupils"))
    t = t.append_column("sp", pc.cast(pc.fill_null(sp, False), pa.int64()))
    agg = t.group_by("school").aggregate([("pd", "count"), ("pd", "sum"), ("hi", "sum"),
                                          ("sp", "sum")])
    return {r["school"]: {"items": r["pd_count"], "pd": r["pd_sum"], "hi": r["hi_sum"],
                          "sp": r["sp_sum"]} for r in agg.to_pylist()}


def _not_read(trust: Trust, school_id: str) -> tuple[dict[str, str], str, str]:
    """Parts whose newest scan could not read them, last backup, last restore test."""
    settings = trust.school_settings(school_id)
    not_read: dict[str, str] = {}
    seen: set[str] = set()
    with open_ledger(settings) as ledger:
        for row in ledger.scan_rows():              # newest first
            if row.status not in ("complete", "partial"):
                continue
            summary = json.loads(row.summary or "{}")
            for name, why in summary.get("unavailable", {}).items():
                if name not in seen:
                    not_read[name] = why
            seen.update(summary.get("sources", {}))
        snap, test = last_snapshot(ledger), last_restore_test(ledger)
    backup = f"{snap.time[:16].replace('T', ' ')} ({snap.status})" if snap else "never"
    restore = (f"{test.time[:16].replace('T', ' ')} ({test.status})" if test else "never")
    return not_read, backup, restore


def _school_page(school_id: str, rows: pa.Table, row: SchoolRow) -> str:
    order = pc.sort_indices(rows, sort_keys=[("risk_score", "descending")])
    top = rows.take(order[:TOP]).to_pylist()
    e = html.escape
    body = "".join(
        f"<tr><td>{e(str(r['share']))}</td><td>{e(str(r['path']))}</td>"
        f"<td>{e(str(r['audience']))}</td><td>{e(str(r['risk_level']))}</td>"
        f"<td>{r['n_findings']}</td></tr>" for r in top)
    missing = "".join(f"<li>{e(n)}: {e(w)}</li>" for n, w in sorted(row.not_read.items()))
    return (f"<!doctype html><meta charset=utf-8><title>{e(school_id)}</title>"
            f"<h1>{e(school_id)}: scan of {e(row.scan_date)}</h1>"
            f"<p>{row.with_personal_data} of {row.items} items hold personal data; "
            f"{row.high} high or critical; {row.special_pupil} special-category items in pupil "
            f"areas.</p>" + (f"<h2>Not read</h2><ul>{missing}</ul>" if missing else "") +
            f"<h2>Riskiest {len(top)} items</h2><table><tr><th>share</th><th>path</th>"
            f"<th>audience</th><th>risk</th><th>findings</th></tr>{body}</table>"
            "<p><a href=index.html>Back to the trust</a></p>")


def write_trust_report(trust: Trust, out_dir: Path | None = None) -> TrustReport:
    """Write ``index.html`` (the trust) and one page per school into ``out_dir``."""
    out = out_dir or trust.reports_dir
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    table = open_items(trust, COLUMNS)
    figures = _figures(table) if table.num_rows else {}
    schools = []
    for school in trust.schools:
        f = figures.get(school.id, {})
        row = SchoolRow(school.id, items=f.get("items", 0), with_personal_data=f.get("pd", 0),
                        high=f.get("hi", 0), special_pupil=f.get("sp", 0))
        row.not_read, row.last_backup, row.last_restore_test = _not_read(trust, school.id)
        mine = table.filter(pc.equal(table["school"], school.id)) if table.num_rows else table
        if mine.num_rows:
            row.scan_date = str(mine["scan_date"][0].as_py())
        row.page = f"school-{school.id}.html"
        (out / row.page).write_text(_school_page(school.id, mine, row), encoding="utf-8")
        schools.append(row)
    path = out / "index.html"
    path.write_text(_index(trust, schools), encoding="utf-8")
    return TrustReport(path, schools)


def _index(trust: Trust, schools: list[SchoolRow]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><a href='{e(s.page)}'>{e(s.school_id)}</a></td><td>{e(s.scan_date or '-')}</td>"
        f"<td>{s.items}</td><td>{s.with_personal_data}</td><td>{s.high}</td>"
        f"<td>{s.special_pupil}</td><td>{e(', '.join(sorted(s.not_read)) or '-')}</td>"
        f"<td>{e(s.last_backup)}</td><td>{e(s.last_restore_test)}</td></tr>" for s in schools)
    return (f"<!doctype html><meta charset=utf-8><title>{e(trust.name)}</title>"
            "<style>td,th{padding:2px 8px;border-bottom:1px solid #ccc}</style>"
            f"<h1>{e(trust.name)}: personal data across {len(schools)} schools</h1>"
            "<table><tr><th>school</th><th>scan date</th><th>items</th>"
            "<th>with personal data</th><th>high or critical</th>"
            "<th>special category in pupil areas</th><th>not read</th><th>last backup</th>"
            "<th>last restore test</th></tr>" + rows + "</table>"
            "<p>Overdue retention is not shown per school yet: the retention tables of the "
            "shared ledger do not carry the school id.</p>")
