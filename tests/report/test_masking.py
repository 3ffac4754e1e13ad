"""The report keeps its promise: no pupil's name or UPN from a file or folder name reaches
the report (text, attributes, %-encoded or not), in headless Chromium as in the files;
`dataward show ITEM` gives the full path on the server and is audited."""
from __future__ import annotations

import csv
import io
from html import escape
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.pipelines.conftest import PUPIL, line
from tests.report.cdp import Browser
from tests.report.conftest import configure

# Names from the roster, written into paths the way staff write them.
NAMES = ["Amelia", "Khan", "Archie", "Ahmed", "Layla", "Okafor"]
UPN = PUPIL["upn"]


def _raw_forms() -> list[str]:
    forms = []
    for v in [*NAMES, UPN, "Amelia Khan", "Archie Ahmed", "Layla Okafor"]:
        forms += [v.lower(), quote(v).lower(), escape(v).lower()]
    return forms


@pytest.fixture
def named_share(dw_home: Path, tmp_path: Path):
    from PIL import Image

    from dataward.pipelines.scan import run_scan
    share = tmp_path / "share"
    photos = share / "pupils" / "Photos"
    photos.mkdir(parents=True)
    Image.new("RGB", (16, 12), "blue").save(photos / "Amelia Khan sports day.jpg")
    Image.new("RGB", (16, 12), "green").save(photos / "archie_ahmed-trip.jpg")
    layla = share / "staff" / "Reports" / "Year 6" / "Layla Okafor"
    layla.mkdir(parents=True)
    (layla / "report.txt").write_text(line() + "\n", encoding="utf-8")
    (share / "staff" / "Reports" / "Year 6" / f"{UPN} notes.txt").write_text(
        line() + "\n", encoding="utf-8")
    roster = tmp_path / "pupils.csv"
    roster.write_text("Legal Forename,Legal Surname\nAmelia,Khan\nArchie,Ahmed\nLayla,Okafor\n",
                      encoding="utf-8")
    settings = configure(tmp_path, share, roster)
    run_scan(settings)
    return settings, share


def _render(settings, fmt: str, out: Path) -> str:
    from dataward.pipelines.report import write_report
    return write_report(settings, fmt=fmt, out=out / f"report.{fmt}").path.read_text("utf-8")


@pytest.mark.parametrize("fmt", ["html", "md", "csv"])
def test_no_name_from_a_path_in_any_format(named_share, tmp_path: Path, fmt: str):
    settings, _share = named_share
    text = _render(settings, fmt, tmp_path)
    lowered = text.lower()
    for raw in _raw_forms():
        assert raw not in lowered, raw
    # Readable and masked like the previews: the rest of each path is still there.
    assert "pupils/Photos/A***** K*** sports day.jpg" in text
    assert "pupils/Photos/A***** A****-trip.jpg" in text
    assert "staff/Reports/Year 6/L**** O*****/report.txt" in text
    assert "staff/Reports/Year 6/***********13 notes.txt" in text
    assert "%20" not in text and "file://" not in text


def test_images_named_after_pupils_are_to_be_renamed(named_share, tmp_path: Path):
    settings, _share = named_share
    rows = {r["path"]: r for r in csv.DictReader(io.StringIO(_render(settings, "csv", tmp_path)))}
    step = rows["pupils/Photos/A***** K*** sports day.jpg"]["next_step"]
    assert step.startswith("rename the image")
    assert rows["pupils/Photos/A***** A****-trip.jpg"]["next_step"].startswith("rename the image")


def test_report_page_shows_no_roster_name_in_chromium(named_share, tmp_path: Path):
    settings, _share = named_share
    _render(settings, "html", tmp_path)
    page = tmp_path / "report.html"
    browser = Browser(tmp_path / "profile")
    try:
        browser.send("Page.enable")
        browser.send("Page.navigate", url=page.as_uri())
        browser.wait_for("Page.loadEventFired")
        # Open every collapsed table, then read all text and every attribute of every node.
        browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        text = browser.evaluate("document.title + '\\n' + document.body.innerText")
        attrs = browser.evaluate(
            "Array.from(document.querySelectorAll('*')).flatMap(el => "
            "Array.from(el.attributes).map(a => a.name + '=' + a.value)).join('\\n')")
        shown = browser.evaluate("Array.from(document.querySelectorAll('td.path'))"
                                 ".map(td => td.textContent)")
    finally:
        browser.close()
    assert "pupils/Photos/A***** K*** sports day.jpg" in shown
    assert "data-item=" in attrs
    for raw in _raw_forms():
        assert raw not in text.lower(), raw
        assert raw not in attrs.lower(), raw


def test_show_gives_the_full_path_and_is_audited(named_share, tmp_path: Path, cli):
    settings, share = named_share
    rows = {r["path"]: r for r in csv.DictReader(io.StringIO(_render(settings, "csv", tmp_path)))}
    item = rows["pupils/Photos/A***** K*** sports day.jpg"]["item"]
    r = cli("--config", settings.config_path, "show", item)
    assert r.exit_code == 0, r.output
    assert f"path: {share / 'pupils' / 'Photos' / 'Amelia Khan sports day.jpg'}" in r.stdout
    r = cli("--config", settings.config_path, "show", "0123456789ab")
    assert r.exit_code == 4 and "no scan holds item" in r.output

    from dataward.ledger import Ledger
    with Ledger.for_settings(settings) as ledger:
        shows = ledger.audit_records(action_prefix="report.show")
    assert [a.subject for a in shows] == [item]
    assert "amelia" not in str(shows[0].details).lower()
