"""The DPO exposure report: one scan's Parquet files (and a few ledger figures) rendered as
one self-contained HTML page, as Markdown, or as CSV (one row per item holding personal
data or that could not be read).

The HTML page carries its style, charts (inline SVG) and its one small script (sorting
the tables) inside itself: no external script, font or image, so it opens offline and can
be mailed within the school. Reports hold counts, locators, reasons and masked previews:
nothing else reaches them (see ``report_data``).
"""
from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jinja2 import Environment, PackageLoader, select_autoescape

from ..cells import markdown_text, write_csv
from ..errors import UsageError
from ..home import ensure_home
from ..ledger import Ledger, ledger_for
from ..settings import Settings
from .outputs import COUNT_COLUMNS
from .report_data import UNREADABLE, ENTITY_LABELS, ReportData, build_report_data, riskiest_order
from .report_rules import GENERAL, RULES
from .report_svg import bar_chart, counted, trend_chart

Format = Literal["html", "md", "csv"]
FORMATS = ("html", "md", "csv")
CSV_COLUMNS = ["item_id", "shown", "source", "area", "audience", "format", "status", "error",
               "change", "risk_level", "risk_score", "n_findings", *COUNT_COLUMNS,
               "special_category", "special_categories", "ocr", "readers", "readers_from", "next_step", "review"]
CSV_HEADER = ["item", "path", *CSV_COLUMNS[2:]]
# A table longer than this starts collapsed (the DPO opens it with one click).
FOLD_ROWS = 20



@dataclass(frozen=True)
class ReportResult:
    scan_id: str
    format: str
    path: Path
    bytes: int
    seconds: float
    headline: dict[str, int]


def _env() -> Environment:
    env = Environment(loader=PackageLoader("dataward", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["n"] = lambda v: f"{int(v):,}"
    env.filters["mb"] = lambda v: f"{v / 1e6:,.1f} MB"
    env.filters["count"] = counted
    return env


def render_html(data: ReportData) -> str:
    return _env().get_template("report.html.j2").render(
        d=data, h=data.headline, labels=ENTITY_LABELS, rules=RULES, general_step=GENERAL,
        fold_rows=FOLD_ROWS,
        area_chart=bar_chart(data.areas), trend_chart=trend_chart(data.trend))


def _md_cell(v: object) -> str:
    return markdown_text(v)


def _md_table(header: list[str], rows: list[list[object]]) -> list[str]:
    if not rows:
        return ["(none)", ""]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return out + [""]


def render_markdown(data: ReportData) -> str:
    h = data.headline
    lines = [f"# Personal data exposure report: {markdown_text(data.school)}", "",
             f"Scan `{data.scan_id}` ({data.scan_mode}, {data.scan_status}) started "
             f"{data.scan_started} UTC; report made {data.generated}.", ""]
    if data.unavailable_sources:
        lines += ["## Sources that could not be read in this scan", ""]
        lines += [f"- **{u.source}**: {u.reason}. Its figures are those of scan "
                  f"{u.results_from or '(none)'}; nothing in it is counted as removed."
                  for u in data.unavailable_sources] + [""]
    if data.overdue_sars:
        lines += ["## Subject access requests past their due date", ""]
        lines += [f"- **{r.sar_id}** ({r.subject}): received {r.received}, due {r.due}, "
                  f"**{counted(r.days_over, 'day')} overdue**" for r in data.overdue_sars] + [""]
    lines += ["## Headline figures", ""]
    lines += _md_table(["figure", "count"], [
        ["items scanned", h["items"]], ["items with personal data", h["with_data"]],
        ["findings", h["findings"]], ["special-category items", h["special"]],
        ["special category in pupil-accessible areas", h["special_pupil"]],
        ["high or critical risk", h["high"]], ["images with GPS positions", h["gps"]],
        ["could not be read", h["unreadable"]],
        ["read by text recognition (OCR)", h["ocr_read"]],
        ["pictures of text still to recognise", h["ocr_needed"]],
        ["new", h["new"]], ["changed", h["changed"]],
        ["moved", h["moved"]], ["removed", h["removed"]]])
    lines += ["## Items with personal data by area and audience", ""]
    lines += _md_table(["area", "audience", "items", "with data", "special", "high", "findings"],
                       [[a.area, a.audience, a.items, a.with_data, a.special, a.high, a.findings]
                        for a in data.areas])
    lines += ["## Riskiest items", ""]
    lines += ["Paths and previews are masked; `dataward show ITEM` on the server gives an "
              "item's full path (audited).", ""]
    rules: list[list[object]] = [[w, a] for _r, w, a in RULES]
    lines += _md_table(["when", "next step"], rules + [["any other item with personal data", GENERAL]])
    for source in sorted({i.source for i in data.riskiest}):
        group = [i for i in data.riskiest if i.source == source]
        lines += [f"### {source}: {counted(len(group), 'item')}", ""]
        lines += _md_table(
            ["risk", "item", "path", "audience", "found", "special", "masked previews", "next step",
             "who can read (from)"],
            [[f"{i.risk_level} ({i.risk_score:g})", i.item_id, i.shown, i.audience, i.entities,
              i.special_categories, i.previews, i.next_step, i.readers_from] for i in group])
    rc = data.review_counts
    lines += [f"## Review: {rc['open']} open, {rc['to-fix']} to fix, {rc['accepted']} accepted, "
              f"{rc['fixed']} fixed", ""]
    lines += _md_table(["state", "item", "path", "decision", "note", "by", "when (UTC)"],
                       [[r.state, r.item_id, r.shown, r.kind, r.note, r.decided_by, r.decided_at]
                        for r in data.reviews])
    lines += ["## What changed since the previous scan", ""]
    if data.previous_scan_id is None:
        lines += ["First scan: there is no earlier scan to compare with.", ""]
    else:
        for change in ("new", "changed", "moved"):
            lines += [f"### {change.capitalize()}: {counted(data.change_counts[change], 'item')}", ""]
            lines += _md_table(["risk", "item", "path", "found"],
                               [[i.risk_level, i.item_id, i.shown, i.entities]
                                for i in data.changes[change]])
        lines += [f"### Removed: {counted(data.change_counts['removed'], 'item')}", ""]
        lines += [f"- {markdown_text(p)}" for p in data.removed] or ["(none)"]
        lines += [""]
    lines += ["## Images with GPS positions", ""]
    lines += _md_table(["item", "path", "audience", "found"],
                       [[i.item_id, i.shown, i.audience, i.entities] for i in data.gps])
    lines += ["## Past the retention date", ""]
    lines += _retention_md(data)
    lines += ["## Leavers' accounts", ""]
    lines += _accounts_md(data)
    lines += ["## Could not be read", ""]
    lines += _md_table(["status", "reason", "items"], [list(r) for r in data.unreadable_reasons])
    lines += _md_table(["status", "item", "path", "reason"],
                       [[u.status, u.item_id, u.shown, u.reason] for u in data.unreadable])
    lines += ["## Backups", ""]
    b = data.last_backup
    lines += [f"Last backup: {b.time} UTC, **{b.status}**, {counted(b.files, 'file')} to "
              f"{b.target} (snapshot {b.snapshot})." if b else
              "No backup has been recorded (`dataward backup run`).", ""]
    t = data.restore_test
    lines += [f"Last restore test: {t.time} UTC, **{t.status}**, {t.matched} of "
              f"{counted(t.checked, 'file')} matched ({t.failed} failed), target {t.target}, "
              f"snapshot {t.snapshot}." if t else
              "No restore test has been recorded (`dataward backup restore-test`).", ""]
    return "\n".join(lines) + "\n"


def _retention_md(data: ReportData) -> list[str]:
    r = data.retention
    if r is None:
        return ["No retention plan has been made yet (`dataward retention plan`).", ""]
    out = [f"Plan `{r.plan_id}` as of {r.as_of} ({r.status}): {r.due} of {r.images} images due "
           f"({r.due_bytes / 1e6:.1f} MB); {r.past_due_in_place} past their date and still in "
           f"place; {r.quarantined} in quarantine; {r.purged} purged.", ""]
    return out + _md_table(["rule", "images"], [[k, v] for k, v in r.by_reason.items()])


def _accounts_md(data: ReportData) -> list[str]:
    a = data.accounts
    if a is None:
        return ["No accounts audit has been run yet (`dataward accounts audit`).", ""]
    out = [f"Audit `{a.audit_id}` of {a.accounts} accounts as of {a.as_of} ({a.created} UTC): "
           f"{a.counts.get('leaver-enabled', 0)} leavers' accounts still enabled past the "
           f"deadline, {a.counts.get('shared-password', 0)} shared accounts with old passwords, "
           f"{a.counts.get('no-match', 0)} accounts matching no one.", ""]
    if a.plan_id:
        out += [f"Latest disable plan `{a.plan_id}` ({a.plan_status}): {a.disabled} accounts disabled.", ""]
    return out


def render_csv(data: ReportData) -> str:
    df = data.items_frame
    df = df[(df["n_findings"] > 0) | df["status"].isin(UNREADABLE)]
    df = riskiest_order(df)[CSV_COLUMNS]
    buf = io.StringIO()
    write_csv(buf, CSV_HEADER, df.itertuples(index=False))
    return buf.getvalue()


RENDERERS = {"html": render_html, "md": render_markdown, "csv": render_csv}


def default_report_path(settings: Settings, scan_id: str, fmt: str) -> Path:
    return settings.home / "reports" / f"report-{scan_id}.{fmt}"


def write_report(settings: Settings, *, scan: str = "latest", fmt: str = "html",
                 out: Path | None = None, ledger: Ledger | None = None) -> ReportResult:
    """Render the report of ``scan`` (an id or ``latest``) to ``out`` (default: the state
    folder's reports/). The file is written 0600 through a temporary name."""
    if fmt not in RENDERERS:
        raise UsageError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    started = time.perf_counter()
    ensure_home(settings)
    with ledger_for(settings, ledger) as led:
        data = build_report_data(settings, led, scan)
    body = RENDERERS[fmt](data)
    path = Path(out) if out else default_report_path(settings, data.scan_id, fmt)
    if path.is_dir():
        path = path / default_report_path(settings, data.scan_id, fmt).name
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(body)
    tmp.replace(path)
    return ReportResult(data.scan_id, fmt, path, path.stat().st_size,
                        round(time.perf_counter() - started, 3), data.headline)
