"""A share that cannot be seen tonight is an error for that share, never "every file was
removed" (issue 12, section 3); and the latest scan is the newest complete result of every
configured source, whatever one-source or ad hoc scans ran since (section 4)."""
from __future__ import annotations

import os
import shutil

import pyarrow.parquet as pq
import pytest

from dataward.ledger import Ledger
from dataward.pipelines.report import write_report
from dataward.pipelines.scan import run_scan
from dataward.pipelines.subject import SubjectQuery, find_subject
from dataward.settings import load_settings


@pytest.fixture
def school(dw_home, tmp_path):
    """Two shares holding one pupil's data each, and a config naming both."""
    staff, pupils = tmp_path / "staff", tmp_path / "pupils"
    staff.mkdir()
    pupils.mkdir()
    (staff / "record.txt").write_text("Pupil Amelia Khan, UPN U820200014013\n")
    (staff / "minutes.txt").write_text("The governors met.\n")
    (pupils / "story.txt").write_text("My friend Oliver Bennett has a dog.\n")
    roster = tmp_path / "pupils.csv"
    roster.write_text("Forename,Surname\nAmelia,Khan\nOliver,Bennett\n")
    cfg = tmp_path / "dataward.yaml"

    def configure(extra_source: str = "", extra: str = ""):
        cfg.write_text(
            "sources:\n"
            f"  - {{name: staff, path: {staff}, audience: staff{extra_source}}}\n"
            f"  - {{name: pupils, path: {pupils}, audience: pupils}}\n"
            f"rosters:\n  - {{path: {roster}}}\n{extra}")
        return load_settings(cfg)

    return staff, pupils, configure


def items(result):
    return pq.read_table(result.out_dir / "items.parquet").to_pandas()


def test_a_missing_share_keeps_its_results_and_nothing_is_removed(school, cli, tmp_path):
    staff, _pupils, configure = school
    settings = configure()
    first = run_scan(settings)
    assert first.status == "complete" and first.items == 3

    staff.rename(tmp_path / "staff-away")  # a typo, or a share not there tonight
    r = cli("--config", settings.config_path, "scan")
    assert r.exit_code == 3, r.output
    assert "source staff could not be read: it does not exist" in r.output
    with Ledger.for_settings(settings) as ledger:
        row = ledger.get_scan("latest")
    assert row.status == "partial"
    report = write_report(settings, fmt="md", out=tmp_path / "r.md").path.read_text()
    assert "## Sources that could not be read in this scan" in report
    assert f"**staff**: it does not exist. Its figures are those of scan {first.scan_id}" in report
    assert "| removed | 0 |" in report
    second_items = pq.read_table(os.path.join(row.out_dir, "items.parquet")).to_pandas()
    assert sorted(second_items.path) == sorted(items(first).path)
    assert set(second_items.change) == {"unchanged"}
    found = find_subject(settings, SubjectQuery(upn="U820200014013"))
    assert [h.path for h in found.hits] == [str(staff / "record.txt")]

    (tmp_path / "staff-away").rename(staff)  # back: nothing is new, nothing is read again
    third = run_scan(settings)
    assert (third.status, third.read, third.new, third.removed) == ("complete", 0, 0, 0)


def test_a_file_in_place_of_the_share_is_unavailable(school):
    _staff, pupils, configure = school
    settings = configure()
    run_scan(settings)
    shutil.rmtree(pupils)
    pupils.write_text("not a folder\n")
    second = run_scan(settings)
    assert second.status == "partial"
    assert second.unavailable == {"pupils": "it is not a folder"}
    assert second.removed == 0 and second.items == 3
    assert (items(second).source == "pupils").sum() == 1


def test_an_unmounted_mount_point_is_unavailable(school):
    from dataward.connectors.filesystem import source_problem
    from dataward.settings import Source
    _staff, _pupils, configure = school
    run_scan(configure())
    # Nothing mounted: the mount point is an ordinary (here: full) folder of its parent.
    second = run_scan(configure(", mount: true"))
    assert second.unavailable == {"staff": "nothing is mounted there (the source is set with "
                                            "mount: true)"}
    assert second.removed == 0 and second.items == 3
    # A real mount point passes the same check.
    assert source_problem(Source(name="proc", path="/proc", mount=True), expect_dir=True) is None


def test_a_share_suddenly_almost_empty_is_unavailable_until_accepted(school):
    staff, _pupils, configure = school
    for i in range(10):
        (staff / f"note{i}.txt").write_text(f"note {i}\n")
    settings = configure(extra="scan: {vanish_min_items: 10, vanish_fraction: 0.5}\n")
    first = run_scan(settings)
    assert first.items == 13
    for i in range(10):
        (staff / f"note{i}.txt").unlink()
    second = run_scan(settings)
    assert second.status == "partial" and second.removed == 0 and second.items == 13
    assert second.unavailable["staff"].startswith("it holds 2 files where the last scan found 12")
    accepted = run_scan(settings, accept_removals=True)
    assert accepted.status == "complete" and accepted.removed == 10 and accepted.items == 3


def test_one_source_scan_keeps_the_others_for_report_and_subject_search(school, cli, tmp_path):
    staff, _pupils, configure = school
    settings = configure()
    run_scan(settings)
    r = cli("--config", settings.config_path, "scan", "--source", "pupils")
    assert r.exit_code == 0, r.output
    assert "1 kept from sources not read" not in r.stdout  # two files of staff are kept
    assert "2 kept from sources not read" in r.stdout
    with Ledger.for_settings(settings) as ledger:
        latest = ledger.get_scan("latest")
    assert latest.mode == "incremental"
    found = find_subject(settings, SubjectQuery(name="Amelia Khan"))
    assert [h.path for h in found.hits] == [str(staff / "record.txt")]
    report = write_report(settings, fmt="md", out=tmp_path / "r.md")
    assert report.headline["items"] == 3 and report.headline["removed"] == 0
    assert report.headline["with_data"] == 2


def test_an_adhoc_scan_never_becomes_the_latest(school, cli, tmp_path):
    staff, _pupils, configure = school
    settings = configure()
    configured = run_scan(settings)
    before = write_report(settings, fmt="csv", out=tmp_path / "before.csv").path.read_text()
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "x.txt").write_text("UPN U820200014013 again\n")
    for extra in (["--out", str(tmp_path / "adhoc-out")], []):
        r = cli("--config", settings.config_path, "scan", str(other), *extra)
        assert r.exit_code == 0, r.output
    with Ledger.for_settings(settings) as ledger:
        assert ledger.get_scan("latest").scan_id == configured.scan_id
    after = write_report(settings, fmt="csv", out=tmp_path / "after.csv")
    assert after.scan_id == configured.scan_id
    assert after.path.read_text() == before
    hits = find_subject(settings, SubjectQuery(upn="U820200014013")).hits
    assert [h.path for h in hits] == [str(staff / "record.txt")]
    # The next configured scan is incremental against the configured one, not the ad hoc.
    again = run_scan(settings)
    assert again.read == 0 and again.removed == 0
