"""The DPO report, rendered from two real scans: what each section says, that the HTML
page stands alone, and that no format holds a raw value."""
from __future__ import annotations

import csv
import io
import re
from html import escape, unescape
from pathlib import Path

import pytest

from dataward.connectors.filesystem import file_locator
from tests.report.conftest import MORE_RAW, Scanned


def _loc(p: Path) -> str:
    return file_locator(str(p))


def _risk_paths(html: str) -> list[str]:
    """The path cells of the riskiest tables, in page order."""
    section = html[html.index('<section id="risk">'):html.index('<section id="changes">')]
    return [unescape(p) for p in re.findall(r'<td class="path">([^<]*)</td>', section)]


def _render(scanned: Scanned, fmt: str, tmp_path: Path, scan: str = "latest") -> str:
    from dataward.pipelines.report import write_report
    r = write_report(scanned.settings, scan=scan, fmt=fmt, out=tmp_path / f"report.{fmt}")
    assert r.path.stat().st_mode & 0o077 == 0  # readable by its owner only
    return r.path.read_text(encoding="utf-8")


def _table_rows(html: str, table_id: str) -> list[str]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [unescape(re.sub(r"<[^>]+>", " ", r)) for r in re.findall(r"<tr.*?</tr>", body, re.S)]


def test_html_report_sections(scanned: Scanned, tmp_path: Path):
    html = _render(scanned, "html", tmp_path)
    assert f"Scan {scanned.second}" in html and f"compared with scan {scanned.first}" in html
    # Riskiest: grouped by source; the special-category note in the pupils' area first.
    paths = _risk_paths(html)
    assert paths[0] == "pupils/Trip/medical notes.txt"
    assert len(paths) == 8  # seven staff files with data plus the new note
    assert "<summary><b>pupils</b>: 1 item</summary>" in html
    assert "<summary><b>staff</b>: 7 items</summary>" in html
    first_row = _table_rows(html, "riskiest-1")[0]
    # A named pupil's health and SEN data where pupils can open it: critical.
    assert "critical" in first_row and "health" in first_row and "A***** K***" in first_row
    assert "move it to a staff-only folder or restrict who can open it" in first_row
    # Counts agree in number on the cards and in the chart's tooltips too.
    assert "<b>1</b><span>special-category item where pupils can open them</span>" in html
    titles = re.findall(r"<title>([^<]*with personal data)</title>", html)
    assert "pupils/Trip: 1 item with personal data" in titles, titles
    assert not [t for t in titles if re.search(r": 1 items", t)]
    # No locator (file:// or %-encoded) anywhere: readable paths and item ids instead.
    assert "file://" not in html and "%20" not in html and "data-locator" not in html
    # Changes since the previous scan.
    new = " ".join(_table_rows(html, "changes-new"))
    assert "pupils/Trip/medical notes.txt" in new
    assert "staff/note.txt" in " ".join(_table_rows(html, "changes-changed"))
    assert [r.strip() for r in _table_rows(html, "changes-removed")] == ["staff/old list.txt"]
    assert "Removed: 1 item</h3>" in html, re.findall(r"<h3>[^<]*</h3>", html)
    assert "New: 2 items, these holding" in html  # the note and the damaged file
    assert "First scan" not in html
    # What could not be read, and why.
    unreadable = " ".join(_table_rows(html, "unreadable-items"))
    assert "staff/broken.docx" in unreadable and "corrupt docx" in unreadable
    # Areas by audience, with the new pupils' folder on its own line.
    assert re.search(r"<td>pupils/Trip</td><td>pupils</td><td class=\"num\">1</td>"
                     r"<td class=\"num\">1</td><td class=\"num\">1</td>", html)
    # Charts: inline SVG, a trend point for each of the two scans.
    assert html.count("<svg") == 2 and len(re.findall(r"<circle ", html)) == 4
    # Self-contained: nothing loaded from anywhere else.
    assert not re.search(r"<script[^>]+src=|<link |<img |@import|url\(|https?://(?!www\.w3\.org/2000/svg)", html)


def test_markdown_and_csv_formats(scanned: Scanned, tmp_path: Path):
    md = _render(scanned, "md", tmp_path)
    assert "## Riskiest items" in md and "pupils/Trip/medical notes.txt" in md
    assert "### staff: 7 items" in md and "### pupils: 1 item" in md
    assert "| items with personal data | 8 |" in md and "file://" not in md
    assert "### Removed: 1 item" in md
    rows = list(csv.DictReader(io.StringIO(_render(scanned, "csv", tmp_path))))
    by_path = {r["path"]: r for r in rows}
    assert rows[0]["path"] == "pupils/Trip/medical notes.txt"
    assert rows[0]["next_step"] == ("move it to a staff-only folder or restrict who can open it "
                                    "(dataward remediate plan ITEM --move-to FOLDER)")
    assert by_path["pupils/Trip/medical notes.txt"]["special_categories"] == "health,sen"
    assert by_path["staff/broken.docx"]["status"] == "error"
    assert "pupils/worksheet.txt" not in by_path  # nothing in it
    assert all(len(r["item"]) == 12 for r in rows) and len({r["item"] for r in rows}) == 9
    assert len(rows) == 9


def test_an_earlier_scan_can_be_reported(scanned: Scanned, tmp_path: Path):
    html = _render(scanned, "html", tmp_path, scan=scanned.first)
    assert f"Scan {scanned.first}" in html and "<b>First scan</b>" in html
    assert "<b>first scan</b><span>nothing earlier to compare with" in html
    # A first scan lists nothing as new (the items are all in the riskiest tables).
    assert 'id="changes-new"' not in html and "New: " not in html
    assert "staff/old list.txt" in _risk_paths(html)
    assert "pupils/Trip/medical notes.txt" not in html


@pytest.mark.parametrize("fmt", ["html", "md", "csv"])
def test_no_raw_value_in_any_format(scanned: Scanned, tmp_path: Path, fmt: str):
    text = _render(scanned, fmt, tmp_path).lower()
    assert "a***** k***" in text or fmt == "csv"  # previews are there, masked
    for raw in MORE_RAW:
        assert raw.lower() not in text
        assert escape(raw).lower() not in text


def test_retention_and_restore_figures_when_present(scanned: Scanned, tmp_path: Path):
    from sqlalchemy import insert

    from dataward.ledger import Ledger
    from dataward.backup.records import backup_restore_tests, backup_snapshots
    from dataward.retention.store import plans_table

    html = _render(scanned, "html", tmp_path)
    assert "No retention plan has been made yet" in html
    assert "No backup has been recorded" in html and "No restore test has been recorded" in html
    with Ledger.for_settings(scanned.settings) as ledger, ledger.begin() as conn:
        conn.execute(insert(backup_restore_tests).values(
            time="2026-11-01T07:00:00+00:00", target="offsite", snapshot_id="ab12cd34ef56",
            status="passed", files_checked=20, files_matched=20, files_failed=0, bytes=1000))
        conn.execute(insert(backup_snapshots).values(
            snapshot_id="cd34ef56ab12", target="offsite", time="2026-11-01T02:00:00+00:00",
            status="complete", files=1, bytes=10, bytes_new=10, bytes_uploaded=10, errors=0,
            seconds=1))
        conn.execute(insert(plans_table).values(
            plan_id="rp-1", created="2026-11-02T06:00:00", created_by="weekly_retention",
            as_of="2026-11-02", status="planned", digest="d", rules_digest="r", inputs="{}",
            roots="[]", counts='{"left-over-30-days": 4, "on-roll": 10}', images=14, due=4,
            due_bytes=4_000_000, warnings="[]"))
    html = _render(scanned, "html", tmp_path)
    assert re.search(r"<b>passed</b>\. 20 of 20 files restored", html)
    assert "Last backup: 2026-11-01 02:00 UTC, <b>complete</b>, 1 file to offsite" in html
    assert "<b>4</b> of 14 images are due for deletion (4.0 MB)" in html
    assert "<td>left-over-30-days</td><td class=\"num\">4</td>" in html


def test_gps_images_listed(scanned: Scanned, tmp_path: Path):
    """An image whose metadata holds a GPS position is listed in its own section."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dataward.ledger import Ledger
    with Ledger.for_settings(scanned.settings) as ledger:
        out_dir = Path(ledger.get_scan("latest").out_dir)
    items = pq.read_table(out_dir / "items.parquet")
    photo = items.slice(0, 1).to_pylist()[0]
    photo.update(locator="file:///share/pupils/trip/IMG_0001.jpg", path="/share/pupils/trip/IMG_0001.jpg",
                 format="jpeg", n_findings=1, n_gps_location=1, n_person=0, n_uk_upn=0,
                 n_uk_nhs=0, n_date_of_birth=0, n_uk_nino=0, n_phone_number=0,
                 n_email_address=0, n_uk_postcode=0, n_special_category=0)
    pq.write_table(pa.concat_tables([items, pa.Table.from_pylist([photo], schema=items.schema)]),
                   out_dir / "items.parquet")
    html = _render(scanned, "html", tmp_path)
    assert "Images with GPS positions: 1" in html
    assert "/share/pupils/trip/IMG_0001.jpg" in html and "file://" not in html


def test_report_cli_and_demo_hook(scanned: Scanned, cli, tmp_path: Path):
    cfg = scanned.settings.config_path
    r = cli("--config", cfg, "report", "--format", "md", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    written = tmp_path / f"report-{scanned.second}.md"
    assert written.exists() and str(written) in r.stdout
    assert "8 of 10 items hold personal data" in r.stdout
    r = cli("--config", cfg, "report", "--format", "pdf")
    assert r.exit_code == 2 and "unknown report format" in r.output
    r = cli("--config", cfg, "report", "--scan", "no-such-scan")
    assert r.exit_code == 4
    from dataward.cli.demo import demo_hooks as _demo_hooks
    from dataward.cli.report import demo_hook
    assert demo_hook in _demo_hooks
