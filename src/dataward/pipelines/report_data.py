"""The figures of the DPO exposure report, computed with pandas from a scan's Parquet files
and the ledger; never from the documents themselves.

Everything here is a count, a locator, a reason or a masked preview: the report can hold
nothing else, because nothing else is read (items.parquet has no values, and of
findings.parquet only the masked ``preview`` column is ever loaded).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Row

from ..classifiers.risk import ENTITY_TYPES
from ..ledger import Ledger
from ..settings import Settings
from .outputs import COUNT_COLUMNS, FINDINGS_FILE, ITEMS_FILE
from .report_extras import (
    AccountsFigures, LastBackup, OverdueSar, RestoreTest, RetentionFigures, accounts_figures,
    latest_backup, latest_restore_test, overdue_sars, past_retention_paths, retention_figures,
)
from .report_paths import ItemNamer
from .report_review import ReviewLine, add_review, review_lines
from .report_rules import StepFacts, next_steps

# Audiences pupils (or anyone) can open: special-category data there is the worst case.
PUPIL_AUDIENCES = frozenset({"pupils", "public", "students"})
# `partial`: read in part (a picture of text not recognised, or past a cap).
UNREADABLE = ("error", "encrypted", "unsupported", "partial")
HIGH_LEVELS = ("critical", "high")
LEVEL_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "none": 4}
ENTITY_LABELS = {
    "PERSON": "name", "UK_UPN": "UPN", "UK_ULN": "ULN", "UK_NHS": "NHS no.",
    "UK_NINO": "NI no.", "UK_PASSPORT": "passport", "UK_POSTCODE": "postcode",
    "PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email", "DATE_OF_BIRTH": "DOB",
    "SPECIAL_CATEGORY": "special category", "GPS_LOCATION": "GPS",
}
ITEM_COLUMNS = ["locator", "source", "path", "format", "status", "error", "audience", "change",
                "n_findings", *COUNT_COLUMNS, "special_category", "special_categories",
                "risk_score", "risk_level", "size", "mtime_ns", "inode", "ocr", "readers", "readers_from",
                "sha256"]

_HIGH = pa.array(list(HIGH_LEVELS))
# How many rows each list shows (the CSV format has every item).
MAX_RISKIEST, MAX_CHANGES, MAX_GPS, MAX_UNREADABLE, MAX_TREND = 50, 100, 100, 100, 14


@dataclass(frozen=True)
class ItemLine:
    locator: str
    path: str
    source: str
    area: str
    audience: str
    format: str
    change: str
    risk_level: str
    risk_score: float
    n_findings: int
    entities: str          # "UPN 3 · NHS no. 2"
    special_categories: str
    previews: str = ""     # a few masked previews, never values
    item_id: str = ""      # `dataward show ITEM` gives the full path on the server
    shown: str = ""        # readable path under its source, personal values masked
    next_step: str = ""
    review: str = ""       # open | to-fix | accepted | false-positive
    readers_from: str = ""  # SMB: "Pupils: \\\\srv\\School\\Year 6; Staff: ..." (masked)


@dataclass(frozen=True)
class AreaLine:
    area: str
    audience: str
    items: int
    with_data: int
    special: int
    high: int
    findings: int


@dataclass(frozen=True)
class Unreadable:
    item_id: str
    shown: str
    status: str
    reason: str


@dataclass(frozen=True)
class UnavailableSource:
    source: str
    reason: str
    results_from: str       # the scan whose results of this source the report shows


@dataclass(frozen=True)
class TrendPoint:
    scan_id: str
    day: str
    with_data: int
    high: int | None


@dataclass
class ReportData:
    school: str
    scan_id: str
    scan_started: str
    scan_status: str
    scan_mode: str
    previous_scan_id: str | None
    generated: str
    headline: dict[str, int]
    entity_totals: dict[str, int]
    areas: list[AreaLine]
    riskiest: list[ItemLine]
    changes: dict[str, list[ItemLine]]
    change_counts: dict[str, int]
    removed: list[str]
    gps: list[ItemLine]
    unreadable: list[Unreadable]
    unreadable_reasons: list[tuple[str, str, int]]
    trend: list[TrendPoint]
    retention: RetentionFigures | None = None
    restore_test: RestoreTest | None = None
    last_backup: LastBackup | None = None
    review_counts: dict[str, int] = field(default_factory=dict)
    reviews: list[ReviewLine] = field(default_factory=list)
    overdue_sars: list[OverdueSar] = field(default_factory=list)
    accounts: AccountsFigures | None = None
    unavailable_sources: list[UnavailableSource] = field(default_factory=list)
    items_frame: pd.DataFrame = field(default=None, repr=False)


def load_items(scan_dir: Path) -> pd.DataFrame:
    schema_names = pq.read_schema(scan_dir / ITEMS_FILE).names
    cols = [c for c in ITEM_COLUMNS if c in schema_names]
    df = pq.read_table(scan_dir / ITEMS_FILE, columns=cols).to_pandas()
    for c in ITEM_COLUMNS:
        if c not in df:
            df[c] = 0 if c.startswith("n_") else ""
    return df


def add_areas(df: pd.DataFrame, settings: Settings) -> None:
    """``area`` = source name plus the first folder under the source's root."""
    from ..connectors.smb import SmbUrl
    roots = {s.name: ((SmbUrl.parse(s.url).unc() + "\\", "\\") if s.kind == "smb" and s.url
                      else (str(s.path).rstrip("/") + "/", "/")) for s in settings.sources}
    area = df["source"].astype(str).copy()
    for name, (root, sep) in roots.items():
        mask = df["source"] == name
        if not mask.any():
            continue
        rel = df.loc[mask, "path"].str.slice(len(root))
        first = rel.str.split(sep, n=1, regex=False)
        has_dir = rel.str.contains(sep, regex=False) & ~rel.str.startswith(("!", "#"))
        top = first.str[0].where(has_dir, "")
        top = top.str.split("!/", n=1, regex=False).str[0]
        area.loc[mask] = (name + "/" + top).where(top != "", name)
    df["area"] = area


def _entities(row_counts: pd.DataFrame) -> list[str]:
    out = []
    labels = [ENTITY_LABELS[e] for e in ENTITY_TYPES]
    values = row_counts.to_numpy()
    for row in values:
        out.append(" · ".join(f"{lab} {int(n)}" for lab, n in zip(labels, row) if n))
    return out


def _lines(df: pd.DataFrame, previews: dict[str, str] | None = None) -> list[ItemLine]:
    if df.empty:
        return []
    ents = _entities(df[list(COUNT_COLUMNS)])
    previews = previews or {}
    return [ItemLine(r.locator, r.path, r.source, r.area, r.audience, r.format, r.change,
                     r.risk_level, float(r.risk_score), int(r.n_findings), e,
                     r.special_categories or "", previews.get(r.locator, ""),
                     r.item_id, r.shown, r.next_step, r.review, r.readers_from or "")
            for r, e in zip(df.itertuples(index=False), ents)]


def _previews(scan_dir: Path, locators: list[str], per_item: int = 4) -> dict[str, str]:
    """A few distinct masked previews for each of ``locators`` (only the preview column)."""
    if not locators or not (scan_dir / FINDINGS_FILE).exists():
        return {}
    t = pq.read_table(scan_dir / FINDINGS_FILE, columns=["locator", "entity_type", "preview"])
    t = t.filter(pc.is_in(t["locator"], value_set=pa.array(locators)))
    t = t.filter(pc.not_equal(t["entity_type"], "SPECIAL_CATEGORY"))
    out: dict[str, list[str]] = {}
    for loc, prev in zip(t["locator"].to_pylist(), t["preview"].to_pylist()):
        seen = out.setdefault(loc, [])
        if prev and prev not in seen and len(seen) < per_item:
            seen.append(prev)
    return {k: ", ".join(v) for k, v in out.items()}


def riskiest_order(df: pd.DataFrame) -> pd.DataFrame:
    """Special category in a pupil-accessible area first, then by risk score."""
    exposed = df["special_category"].astype(bool) & df["audience"].isin(PUPIL_AUDIENCES)
    return (df.assign(_exposed=exposed)
              .sort_values(["_exposed", "special_category", "risk_score", "locator"],
                           ascending=[False, False, False, True], kind="stable")
              .drop(columns="_exposed"))


def _previous_scan(ledger: Ledger, row: Row[Any]) -> Row[Any] | None:
    for r in ledger.scan_rows():
        if (r.started < row.started and r.status in ("complete", "partial")
                and r.mode != "adhoc" and (Path(r.out_dir) / ITEMS_FILE).exists()):
            return r
    return None


def _removed(prev_dir: Path, df: pd.DataFrame) -> list[str]:
    """Top-level locators of the previous scan that are gone now (not merely moved)."""
    prev = pq.read_table(prev_dir / ITEMS_FILE,
                         columns=["locator", "size", "mtime_ns", "inode"]).to_pandas()
    prev = prev[~prev["locator"].str.contains("!/", regex=False)
                & ~prev["locator"].str.contains("#", regex=False)]
    gone = prev[~prev["locator"].isin(set(df["locator"]))]
    gone_ident = {(i, s, m) for i, s, m in zip(gone["inode"], gone["size"], gone["mtime_ns"]) if i}
    # A file the scan read again at its new place (moved into another source, or from or
    # to a path naming someone) is the same file: shown as moved, not as new and removed.
    tops = ~df["locator"].str.contains("!/", regex=False) & ~df["locator"].str.contains("#", regex=False)
    again = (df["change"] == "new") & tops & pd.Series(
        [(i, s, m) in gone_ident for i, s, m in zip(df["inode"], df["size"], df["mtime_ns"])],
        index=df.index)
    df.loc[again, "change"] = "moved"
    moved = df[df["change"] == "moved"]
    ident = set(zip(moved["inode"], moved["size"], moved["mtime_ns"]))
    keep = [(i, s, m) not in ident for i, s, m in zip(gone["inode"], gone["size"], gone["mtime_ns"])]
    return sorted(gone.loc[keep, "locator"].tolist())


def _trend(ledger: Ledger, current_started: str) -> list[TrendPoint]:
    rows = [r for r in ledger.scan_rows() if r.status in ("complete", "partial")
            and r.mode != "adhoc" and r.started <= current_started][:MAX_TREND]
    points = []
    for r in reversed(rows):
        high = None
        path = Path(r.out_dir) / ITEMS_FILE
        if path.exists():
            levels = pq.read_table(path, columns=["risk_level"])["risk_level"]
            high = int(pc.sum(pc.is_in(levels, value_set=_HIGH)).as_py() or 0)
        points.append(TrendPoint(r.scan_id, r.started[:10], int(r.items_with_findings or 0), high))
    return points




def unavailable_sources(summary: dict[str, Any]) -> list[UnavailableSource]:
    """The sources the scan could not read (their last results were kept)."""
    return [UnavailableSource(name, rec.get("reason", ""), rec.get("scan_id", ""))
            for name, rec in sorted((summary.get("sources") or {}).items())
            if rec.get("state") == "unavailable"]


def _names_in_paths(scan_dir: Path) -> frozenset[str]:
    """Locators whose file or folder name holds a roster name (the scan's path-name check)."""
    if not (scan_dir / FINDINGS_FILE).exists():
        return frozenset()
    t = pq.read_table(scan_dir / FINDINGS_FILE, columns=["locator", "where"])
    t = t.filter(pc.is_in(t["where"], value_set=pa.array(["file name", "folder name"])))
    return frozenset(t["locator"].to_pylist())


def name_items(df: pd.DataFrame, namer: ItemNamer, facts: StepFacts) -> None:
    """Adds ``shown`` (masked readable path), ``item_id`` and ``next_step`` columns, and
    masks the ``area`` column (a folder name can hold a pupil's name too)."""
    shown, ids = namer.many(zip(df["locator"], df["path"], df["source"]))
    df["shown"], df["item_id"] = shown, ids
    df["area"] = [namer.masker.mask(a) for a in df["area"]]
    df["readers_from"] = [namer.masker.mask(str(a or "")) for a in df["readers_from"]]
    has_data = df["n_findings"] > 0
    df["next_step"] = ""
    if has_data.any():
        df.loc[has_data, "next_step"] = next_steps(df[has_data], facts, PUPIL_AUDIENCES)


def build_report_data(settings: Settings, ledger: Ledger, scan: str = "latest",
                      namer: ItemNamer | None = None) -> ReportData:
    row = ledger.get_scan(scan)
    scan_dir = Path(row.out_dir)
    df = load_items(scan_dir)
    add_areas(df, settings)
    if namer is None:
        from ..home import fingerprint_key
        from .scan import build_roster
        namer = ItemNamer(settings, build_roster(settings), fingerprint_key(settings))
    name_items(df, namer, StepFacts(_names_in_paths(scan_dir), past_retention_paths(ledger)))
    review = add_review(df, ledger, scan_dir, row.started)
    has_data = df["n_findings"] > 0
    special = df["special_category"].astype(bool)
    high = df["risk_level"].isin(HIGH_LEVELS)
    unreadable = df["status"].isin(UNREADABLE)
    gps = df["n_gps_location"] > 0
    summary = json.loads(row.summary or "{}")
    prev = _previous_scan(ledger, row)
    removed = _removed(Path(prev.out_dir), df) if prev is not None else []
    change_counts = {c: int((df["change"] == c).sum()) for c in ("new", "changed", "moved")}
    change_counts["removed"] = len(removed) if prev is not None else int(summary.get("removed", 0))

    headline = {
        "items": len(df), "with_data": int(has_data.sum()), "findings": int(df["n_findings"].sum()),
        "special": int(special.sum()), "high": int(high.sum()),
        "pupil_exposed": int((has_data & df["audience"].isin(PUPIL_AUDIENCES)).sum()),
        "special_pupil": int((special & df["audience"].isin(PUPIL_AUDIENCES)).sum()),
        "unreadable": int(unreadable.sum()), "gps": int(gps.sum()), **change_counts,
        # Text recognition: items with picture text read (all or some), and items whose
        # picture text is not (all) read yet (Tesseract missing, caps, budget).
        "ocr_read": int(df["ocr"].isin(("read", "partial")).sum()),
        "ocr_needed": int(df["ocr"].isin(("partial", "needed")).sum()),
    }
    entity_totals = {e: int(df[c].sum()) for e, c in zip(ENTITY_TYPES, COUNT_COLUMNS)}

    grouped = (df.assign(_data=has_data, _special=special, _high=high)
                 .groupby(["area", "audience"], sort=False)
                 .agg(items=("locator", "size"), with_data=("_data", "sum"),
                      special=("_special", "sum"), high=("_high", "sum"),
                      findings=("n_findings", "sum"))
                 .reset_index()
                 .sort_values(["with_data", "high", "area"], ascending=[False, False, True]))
    areas = [AreaLine(r.area, r.audience, int(r.items), int(r.with_data), int(r.special),
                      int(r.high), int(r.findings)) for r in grouped.itertuples(index=False)]

    risky = riskiest_order(df[has_data]).head(MAX_RISKIEST)
    changed_frames = {c: riskiest_order(df[(df["change"] == c) & has_data]).head(MAX_CHANGES)
                      for c in ("new", "changed", "moved")}
    gps_frame = riskiest_order(df[gps]).head(MAX_GPS)
    shown = set(risky["locator"])
    previews = _previews(scan_dir, sorted(shown))

    bad = df[unreadable].sort_values(["status", "path"])
    reasons = (bad.groupby(["status", "error"]).size().reset_index(name="n")
                  .sort_values("n", ascending=False))
    return ReportData(
        school=settings.school.name, scan_id=row.scan_id, scan_started=row.started[:19],
        scan_status=row.status, scan_mode=row.mode,
        previous_scan_id=prev.scan_id if prev is not None else None,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        headline=headline, entity_totals=entity_totals, areas=areas,
        riskiest=_lines(risky, previews),
        changes={c: _lines(f) for c, f in changed_frames.items()},
        change_counts=change_counts, removed=[namer.shown(loc, "") for loc in removed[:MAX_CHANGES]],
        gps=_lines(gps_frame),
        unreadable=[Unreadable(r.item_id, r.shown, r.status, r.error or "")
                    for r in bad.head(MAX_UNREADABLE).itertuples(index=False)],
        unreadable_reasons=[(r.status, r.error or "", int(r.n)) for r in reasons.itertuples(index=False)],
        trend=_trend(ledger, row.started),
        retention=retention_figures(ledger),
        restore_test=latest_restore_test(ledger),
        last_backup=latest_backup(ledger),
        review_counts=review.counts(),
        reviews=review_lines(review, df),
        overdue_sars=overdue_sars(ledger),
        accounts=accounts_figures(ledger),
        unavailable_sources=unavailable_sources(summary),
        items_frame=df,
    )
