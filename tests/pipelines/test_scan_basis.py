"""A reused result is bound to everything that decided it (issue 12, section 2): a roster,
terms or dataward change makes the next incremental scan read what it must; a risk-only
change recomputes scores from the stored counts without reading any file."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dataward.ledger import Ledger
from dataward.pipelines.scan import run_scan
from dataward.pipelines.subject import SubjectQuery, find_subject
from dataward.settings import load_settings

LETTER = ("Dear parents,\nAmelia Khan and Oliver Bennett will read at the Harvest assembly "
          "on Friday.\nMrs Patel\n")


def person_count(result, name: str) -> int:
    items = pq.read_table(result.out_dir / "items.parquet").to_pandas().set_index("path")
    return int(items.loc[name, "n_person"])


def reasons_of(result) -> list[str]:
    with Ledger.for_settings(result.settings) as ledger:
        return json.loads(ledger.get_scan(result.scan_id).summary)["reasons"]


def same_size_rewrite(path: Path, text: str) -> None:
    """Replace a file's bytes keeping its size, inode and mtime: only a scan that really
    reads it can notice."""
    st = path.stat()
    assert len(text.encode()) == st.st_size
    with open(path, "r+b") as fh:
        fh.write(text.encode())
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.fixture
def school(dw_home, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    (share / "letter.txt").write_text(LETTER)
    for i in range(5):
        (share / f"minutes{i}.txt").write_text(f"Governors met on day {i}. Budget agreed.\n")
    roster = tmp_path / "pupils.csv"
    roster.write_text("Forename,Surname\nAmelia,Khan\n")
    cfg = tmp_path / "dataward.yaml"

    def configure(extra: str = "", audience: str = "staff"):
        cfg.write_text(f"sources:\n  - {{name: office, path: {share}, audience: {audience}}}\n"
                       f"rosters:\n  - {{path: {roster}, kind: pupils}}\n{extra}")
        return load_settings(cfg)

    def scan(settings, **kw):
        result = run_scan(settings, **kw)
        result.settings = settings
        return result

    return share, roster, configure, scan


def test_a_name_added_to_the_roster_is_found_in_unchanged_files(school):
    share, roster, configure, scan = school
    settings = configure()
    first = scan(settings)
    assert person_count(first, str(share / "letter.txt")) == 1

    roster.write_text("Forename,Surname\nAmelia,Khan\nOliver,Bennett\n")
    second = scan(settings)
    assert person_count(second, str(share / "letter.txt")) == 2
    # Only the file the name index pointed at was read; the minutes kept their results.
    assert (second.read, second.rechecked, second.reused) == (1, 1, 5)
    assert "office: roster changed: 1 name added -> 1 file re-checked" in reasons_of(second)
    found = find_subject(settings, SubjectQuery(name="Oliver Bennett"))
    assert [h.path for h in found.hits] == [str(share / "letter.txt")]
    items = pq.read_table(second.out_dir / "items.parquet").to_pandas()
    assert set(items.change) == {"unchanged"}  # no file changed: nothing is new or changed

    third = scan(settings)  # the roster is as last time: nothing is read
    assert (third.read, third.rechecked) == (0, 0)
    assert person_count(third, str(share / "letter.txt")) == 2

    roster.write_text("Forename,Surname\nOliver,Bennett\n")  # Amelia has left
    fourth = scan(settings)
    assert person_count(fourth, str(share / "letter.txt")) == 1
    assert fourth.read == 1
    assert find_subject(settings, SubjectQuery(name="Amelia Khan")).hits == []


def test_the_name_index_holds_no_words(school):
    _share, _roster, configure, scan = school
    first = scan(configure())
    raw = (first.out_dir / "name_index.parquet").read_bytes()
    table = pq.read_table(first.out_dir / "name_index.parquet")
    assert table.num_rows == 6
    for word in (b"amelia", b"bennett", b"governors", b"harvest"):
        assert word not in raw.lower()
        assert all(word not in t.lower() for t in table["tokens"].to_pylist())


def test_changed_special_category_terms_force_a_re_read(school, monkeypatch):
    from dataward.classifiers.recognizers import special_category
    _share, _roster, configure, scan = school
    settings = configure()
    first = scan(settings)
    assert first.by_entity.get("SPECIAL_CATEGORY", 0) == 0
    terms = {k: tuple(v) for k, v in special_category.TERMS.items()}
    terms["health"] = terms["health"] + ("harvest assembly",)
    monkeypatch.setattr(special_category, "TERMS", terms)
    second = scan(settings)
    assert second.read == second.items == 6 and second.reused == 0
    assert second.by_entity["SPECIAL_CATEGORY"] == 1
    assert "office: special-category terms changed -> 6 files re-read" in reasons_of(second)


def test_a_new_dataward_version_forces_a_re_read(school, monkeypatch):
    import dataward
    _share, _roster, configure, scan = school
    settings = configure()
    scan(settings)
    old = dataward.__version__
    monkeypatch.setattr(dataward, "__version__", "99.0.0")
    second = scan(settings)
    assert second.read == 6 and second.reused == 0
    assert any(r.startswith(f"office: dataward version changed ({old} -> 99.0.0)")
               for r in reasons_of(second))


def test_a_changed_threshold_forces_a_re_read(school):
    _share, _roster, configure, scan = school
    scan(configure())
    second = scan(configure("scan: {score_threshold: 0.9}\n"))
    assert second.read == 6
    assert "office: scan settings changed (scan.score_threshold) -> 6 files re-read" in reasons_of(second)


def test_risk_only_changes_recompute_scores_without_reading(school):
    share, _roster, configure, scan = school
    (share / "upn.txt").write_text("UPN U820200014013\n")
    weights = "risk: {entity_weights: {UK_UPN: %d}, audience_factors: {staff: 1.0, pupils: 3.0}}\n"
    first = scan(configure(weights % 2))
    items = pq.read_table(first.out_dir / "items.parquet").to_pandas().set_index("path")
    assert items.loc[str(share / "upn.txt"), "risk_score"] == 2.0

    # The file's bytes change behind the scan's back (same size, inode and mtime): a scan
    # that read it would find no UPN. The risk-only rescans must not read it.
    same_size_rewrite(share / "upn.txt", "x" * 17 + "\n")
    second = scan(configure(weights % 50))
    items = pq.read_table(second.out_dir / "items.parquet").to_pandas().set_index("path")
    row = items.loc[str(share / "upn.txt")]
    assert (row.risk_score, row.n_uk_upn) == (50.0, 1)
    assert (second.read, second.bytes_read, second.reused) == (0, 0, 7)
    assert any("risk settings or audience changed -> risk recomputed for 7 unchanged files"
               in r for r in reasons_of(second))

    third = scan(configure(weights % 50, audience="pupils"))
    items = pq.read_table(third.out_dir / "items.parquet").to_pandas().set_index("path")
    row = items.loc[str(share / "upn.txt")]
    assert (row.audience, row.risk_score, row.n_uk_upn) == ("pupils", 150.0, 1)
    assert (third.read, third.bytes_read) == (0, 0)


def test_scans_lists_why_a_scan_read_what_it_did(school, cli):
    _share, roster, configure, _scan = school
    settings = configure()
    r = cli("--config", settings.config_path, "scan")
    assert r.exit_code == 0, r.output
    roster.write_text("Forename,Surname\nAmelia,Khan\nOliver,Bennett\n")
    r = cli("--config", settings.config_path, "scan")
    assert "office: roster changed: 1 name added -> 1 file re-checked" in r.stdout
    listed = cli("--config", settings.config_path, "scans")
    assert "office: first scan -> 6 files read" in listed.stdout
    assert "office: roster changed: 1 name added -> 1 file re-checked" in listed.stdout
