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
from ..ledger import Ledger
from .config import Trust
from .results import items_dataset, latest_dates, school_items

COLUMNS = ["share", "path", "audience", "n_findings", "special_category", "risk_score",
           "risk_level"]
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


def _figures(t: pa.Table) -> dict[str, int]:
    """One school's counts from its items (the figures' columns only)."""
    pupils = pc.fill_null(pc.equal(t["audience"], "pupils"), False)
    special = pc.and_(pc.fill_null(t["special_category"], False), pupils)
    high = pc.is_in(t["risk_level"], pa.array(["high", "critical"]))
    return {"items": t.num_rows,
            "pd": pc.sum(pc.greater(t["n_findings"], 0)).as_py() or 0,
            "hi": pc.sum(pc.fill_null(high, False)).as_py() or 0,
            "sp": pc.sum(pc.fill_null(special, False)).as_py() or 0}


def _not_read(ledger: Ledger) -> tuple[dict[str, str], str, str]:
    """Parts whose newest scan could not read them, last backup, last restore test."""
    not_read: dict[str, str] = {}
    seen: set[str] = set()
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


def _school_page(school_id: str, top: list[dict], row: SchoolRow) -> str:
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


def _riskiest(items: pa.Table) -> list[dict]:
    order = pc.sort_indices(items, sort_keys=[("risk_score", "descending")])[:TOP]
    return items.take(order).to_pylist()


def write_trust_report(trust: Trust, out_dir: Path | None = None) -> TrustReport:
    """Write ``index.html`` (the trust) and one page per school into ``out_dir``.

    Each school's newest scan date comes from the dataset's partition folders, and only
    that partition is read, school by school; the ledger is opened once for all schools."""
    out = out_dir or trust.reports_dir
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    dataset = items_dataset(trust)
    latest = latest_dates(dataset) if dataset is not None else {}
    schools = []
    with Ledger(trust.database_url) as shared:
        for school in trust.schools:
            row = SchoolRow(school.id, page=f"school-{school.id}.html")
            row.not_read, row.last_backup, row.last_restore_test = _not_read(
                shared.for_school(school.id))
            top: list[dict] = []
            if dataset is not None and school.id in latest:
                date = latest[school.id]
                items = school_items(dataset, school.id, date, COLUMNS)
                f = _figures(items)
                row.scan_date, row.items = str(date), f["items"]
                row.with_personal_data, row.high, row.special_pupil = f["pd"], f["hi"], f["sp"]
                top = _riskiest(items)
            (out / row.page).write_text(_school_page(school.id, top, row), encoding="utf-8")
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
