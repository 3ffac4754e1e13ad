"""The HTML report in real headless Chromium (Debian's package): it loads offline with no
console errors, makes no request beyond its own file, its main table holds the expected
rows, and its column sort works. The screenshot is the README's picture."""
from __future__ import annotations

from pathlib import Path

from tests.report.cdp import Browser
from tests.report.conftest import Scanned

# The README's picture is refreshed with DATAWARD_README_SCREENSHOT=1; other runs write
# their screenshot under the test's tmp dir, so the work tree stays clean.
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "report.png"


def test_report_in_headless_chromium(scanned: Scanned, tmp_path: Path):
    import os
    SCREENSHOT = (README_SCREENSHOT if os.environ.get("DATAWARD_README_SCREENSHOT")
                  else tmp_path / "report.png")
    from dataward.pipelines.report import write_report
    report = write_report(scanned.settings, fmt="html", out=tmp_path / "report.html").path
    expected_first = "pupils/Trip/medical notes.txt"
    expected = {expected_first} | {f"staff/{n}" for n in (
        "note.txt", "list.csv", "page.html", "data.json", "report.docx", "pupils.xlsx",
        "letter.pdf")}

    browser = Browser(tmp_path / "profile")
    try:
        for domain in ("Runtime", "Log", "Page", "Network"):
            browser.send(f"{domain}.enable")
        browser.send("Emulation.setDeviceMetricsOverride", width=1280, height=1000,
                     deviceScaleFactor=1, mobile=False)
        browser.send("Page.navigate", url=report.as_uri())
        browser.wait_for("Page.loadEventFired")

        rows = browser.evaluate(
            "Array.from(document.querySelectorAll('table.riskiest tbody tr'))"
            ".map(tr => tr.querySelector('td.path').textContent)")
        assert rows[0] == expected_first and set(rows) == expected and len(rows) == 8
        ids = browser.evaluate("Array.from(document.querySelectorAll('table.riskiest tbody tr'))"
                               ".map(tr => tr.dataset.item)")
        assert len(set(ids)) == 8 and all(len(i) == 12 for i in ids)
        assert browser.evaluate("document.querySelectorAll('svg.chart').length") == 2
        assert browser.evaluate("document.title").startswith(
            "Personal data exposure report: Oakfield Test School")

        # Sorting by score (third column) puts the lowest score first, then the highest.
        scores = ("Array.from(document.querySelectorAll('#riskiest-2 tbody tr'))"
                  ".map(tr => parseFloat(tr.cells[2].textContent))")
        browser.evaluate("document.querySelector('#riskiest-2 th:nth-child(3)').click()")
        ascending = browser.evaluate(scores)
        assert ascending == sorted(ascending)
        browser.evaluate("document.querySelector('#riskiest-2 th:nth-child(3)').click()")
        assert browser.evaluate(scores) == sorted(ascending, reverse=True)
        browser.evaluate("document.querySelector('#riskiest-2 th:nth-child(1)').click()")

        assert browser.errors() == []
        assert all(u.startswith(("file:", "data:", "about:")) for u in browser.requests())
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot(SCREENSHOT, 1280, 1000)
    finally:
        browser.close()
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
