"""The scan of a share: every format read, Parquet outputs as DESIGN.md says,
incremental rescans, and a consistent state after Ctrl-C."""
from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest

from dataward.ledger import Ledger
from dataward.pipelines.outputs import FINDINGS_SCHEMA, ITEMS_SCHEMA
from dataward.pipelines.scan import run_scan


def items_of(result):
    return pq.read_table(result.out_dir / "items.parquet").to_pandas().set_index("path")


def findings_of(result):
    return pq.read_table(result.out_dir / "findings.parquet").to_pandas()


def test_every_format_is_read_and_identifiers_found(settings, share):
    result = run_scan(settings)
    items = items_of(result)
    assert result.status == "complete"
    for name in ("note.txt", "list.csv", "page.html", "data.json", "report.docx",
                 "pupils.xlsx", "letter.pdf"):
        row = items.loc[str(share / "staff" / name)]
        assert row.status == "ok", (name, row.error)
        assert row.n_uk_upn == 1, name
        assert row.n_person >= 1, name
        assert row.audience == "staff"
        assert len(row.sha256) == 64
    assert items.loc[str(share / "pupils" / "worksheet.txt")].n_findings == 0


def test_outputs_follow_the_contract(settings):
    result = run_scan(settings)
    assert pq.read_schema(result.out_dir / "items.parquet").names == ITEMS_SCHEMA.names
    assert pq.read_schema(result.out_dir / "findings.parquet").names == FINDINGS_SCHEMA.names
    items, findings = items_of(result), findings_of(result)
    assert set(findings.locator) <= set(items.locator)
    assert items.locator.str.startswith("file:///").all()
    assert (findings.fingerprint.str.len() == 32).all()
    note = findings[findings.locator.str.endswith("note.txt")]
    assert set(note.entity_type) >= {"PERSON", "UK_UPN", "DATE_OF_BIRTH", "UK_NHS", "UK_NINO",
                                     "PHONE_NUMBER", "EMAIL_ADDRESS", "UK_POSTCODE"}
    assert (note["where"] == "line 1").all()
    xlsx = findings[findings.locator.str.endswith("pupils.xlsx")]
    assert set(xlsx["where"]) >= {"Sheet!B2", "Sheet!C2", "Sheet!D2"}
    with Ledger.for_settings(settings) as ledger:
        row = ledger.get_scan("latest")
    assert row.scan_id == result.scan_id and row.items == len(items)


def test_rescan_reuses_unchanged_and_notices_changes(settings, share):
    first = run_scan(settings)
    again = run_scan(settings)
    assert again.reused == again.items == first.items and again.read == 0
    assert findings_of(again).shape[0] == findings_of(first).shape[0]

    (share / "staff" / "note.txt").write_text("nothing personal now\n")
    os.unlink(share / "staff" / "data.json")
    os.rename(share / "staff" / "report.docx", share / "staff" / "report-moved.docx")
    third = run_scan(settings)
    items = items_of(third)
    assert items.loc[str(share / "staff" / "note.txt")].change == "changed"
    assert items.loc[str(share / "staff" / "note.txt")].n_findings == 0
    moved = items.loc[str(share / "staff" / "report-moved.docx")]
    assert moved.change == "moved" and moved.n_uk_upn == 1
    assert (third.changed, third.moved, third.removed, third.read) == (1, 1, 1, 1)
    fs = findings_of(third)
    assert fs.locator.str.endswith("report-moved.docx").any()
    assert not fs.locator.str.endswith("/report.docx").any()

    full = run_scan(settings, full=True)
    assert full.reused == 0 and full.read == full.items


def test_ctrl_c_leaves_the_previous_scan_as_latest(settings):
    first = run_scan(settings)

    def interrupt(p):
        if p.phase == "reading":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scan(settings, full=True, progress=interrupt)
    with Ledger.for_settings(settings) as ledger:
        assert ledger.get_scan("latest").scan_id == first.scan_id
        assert ledger.scan_rows()[0].status == "interrupted"
        assert ledger.verify_audit().ok
    leftovers = [p for p in settings.scans_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert run_scan(settings).reused == first.items  # the next run picks up as usual


@pytest.fixture
def bare_settings(dw_home, tmp_path):
    from dataward.settings import load_settings
    cfg = tmp_path / "empty.yaml"
    cfg.write_text("school: {name: Test}\n")
    return load_settings(cfg)


def test_no_sources_is_a_clear_error(bare_settings):
    from dataward.errors import ConfigError
    with pytest.raises(ConfigError, match="nothing to scan"):
        run_scan(bare_settings)


def test_include_and_exclude_globs(bare_settings, share):
    from dataward.settings import Source
    src = Source(name="staff", path=share / "staff", include=["*.txt", "*.csv"],
                 exclude=["list.csv"])
    result = run_scan(bare_settings, sources=[src])
    assert sorted(os.path.basename(p) for p in items_of(result).index) == ["note.txt"]


def test_a_file_renamed_from_or_to_a_pupils_name_is_read_again(settings, share):
    """A move keeps the last result, except for what the path itself said: a photo renamed
    away from a pupil's name no longer names them, and a file renamed to one does."""
    named = share / "staff" / "Amelia Khan.txt"
    named.write_text("nothing personal inside\n")
    (share / "staff" / "plain.txt").write_text("nothing personal inside either\n")
    first = run_scan(settings)
    assert items_of(first).loc[str(named)].n_person == 1
    os.rename(named, share / "staff" / "IMG-1.txt")
    os.rename(share / "staff" / "plain.txt", share / "staff" / "Amelia Khan notes.txt")
    second = run_scan(settings)
    items = items_of(second)
    assert items.loc[str(share / "staff" / "IMG-1.txt")].n_person == 0
    assert items.loc[str(share / "staff" / "Amelia Khan notes.txt")].n_person == 1
    # Any other moved file is still carried over, not read.
    os.rename(share / "staff" / "IMG-1.txt", share / "staff" / "IMG-2.txt")
    third = run_scan(settings)
    assert (third.moved, third.read) == (1, 0)
