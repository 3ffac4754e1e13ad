"""A trust's schools share one PostgreSQL ledger and stay apart in it: each school sees
only its own scans and audit records, and one school's key never opens another's
fingerprints. Shares are split into stable parts, each scanned incrementally."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from dataward.errors import NotFoundError
from dataward.home import open_ledger
from dataward.trust.config import load_trust
from dataward.trust.parts import school_parts, split_source
from dataward.trust.scan import prepare_school, scan_part

from .conftest import write_trust


def _scan_school(trust, school_id):
    return [scan_part(trust, part) for part in prepare_school(trust, school_id)]


def _a_pupil(school_dir: Path) -> dict[str, str]:
    with open(school_dir / "mis-exports" / "pupils.csv", newline="") as fh:
        return next(csv.DictReader(fh))


def test_each_school_sees_only_its_own_scans_and_audit(make_trust, trust_db):
    trust = load_trust(make_trust(2))
    a = _scan_school(trust, "school1")
    b = _scan_school(trust, "school2")
    with open_ledger(trust.school_settings("school1")) as la, \
            open_ledger(trust.school_settings("school2")) as lb:
        assert {r.scan_id for r in la.scan_rows()} == {p.scan_id for p in a}
        assert {r.scan_id for r in lb.scan_rows()} == {p.scan_id for p in b}
        with pytest.raises(NotFoundError):
            la.get_scan(b[0].scan_id)
        assert {r.subject for r in la.audit_records(action_prefix="scan.")} == \
            {p.scan_id for p in a}
        assert la.verify_audit().ok        # one chain across the trust's schools
    with sa.create_engine(trust_db).connect() as conn:
        ids = dict(conn.execute(sa.text("select scan_id, school_id from scans")).all())
    assert ids == {**{p.scan_id: "school1" for p in a}, **{p.scan_id: "school2" for p in b}}


def test_one_schools_key_never_opens_anothers_fingerprints(tmp_path, demo_template, trust_db):
    # Two schools holding the very same files (one demo copied twice).
    for sid in ("oak", "elm"):
        shutil.copytree(demo_template / "school1", tmp_path / sid)
    trust = load_trust(write_trust(tmp_path, trust_db, ["oak", "elm"]))
    fps = {}
    for sid in ("oak", "elm"):
        parts = _scan_school(trust, sid)
        fps[sid] = {f for p in parts
                    for f in pq.read_table(Path(p.out_dir) / "findings.parquet")["fingerprint"]
                    .to_pylist()}
        assert trust.school_settings(sid).fingerprint_key_path.read_bytes()
    assert fps["oak"] and fps["elm"]
    assert not fps["oak"] & fps["elm"]
    assert trust.school_settings("oak").fingerprint_key_path != \
        trust.school_settings("elm").fingerprint_key_path

    from dataward.pipelines.subject import SubjectQuery, find_subject
    upn = _a_pupil(tmp_path / "oak")["UPN"]
    oak = find_subject(trust.school_settings("oak"), SubjectQuery(upn=upn), all_scans=True)
    assert oak.hits
    # elm's own search finds its own copy; oak's key over elm's scans finds nothing.
    elm_settings = trust.school_settings("elm")
    assert find_subject(elm_settings, SubjectQuery(upn=upn), all_scans=True).hits
    elm_settings.home_override = trust.school_settings("oak").home_override
    elm_settings.school.id = "elm"     # elm's scans, oak's key
    assert not find_subject(elm_settings, SubjectQuery(upn=upn), all_scans=True).hits


def test_a_share_splits_into_stable_parts_each_scanned_incrementally(make_trust):
    trust = load_trust(make_trust(1, parts=3))
    settings = trust.school_settings("school1")
    staff = next(s for s in settings.sources if s.name == "staff")
    before = {p.name: p.include for p in split_source(staff, 3)}
    assert sorted(before) == ["staff.part1of3", "staff.part2of3", "staff.part3of3"]
    tops = sorted(x.name for x in staff.path.iterdir())
    assert sorted(pat.lstrip("/") for inc in before.values() for pat in inc) == tops
    (staff.path / "New folder").mkdir()
    (staff.path / "New folder" / "note.txt").write_text("nothing personal\n")
    after = {p.name: p.include for p in split_source(staff, 3)}
    moved = [n for n in before if set(before[n]) - set(after[n])]
    assert moved == []                 # a new folder joins one part; nothing else moves

    first = _scan_school(trust, "school1")
    files_on_disk = sum(1 for s in settings.sources for p in s.path.rglob("*") if p.is_file())
    tops_scanned = sum(
        sum(1 for loc in pq.read_table(Path(p.out_dir) / "items.parquet")["locator"].to_pylist()
            if "!/" not in loc and "#" not in loc) for p in first)
    assert tops_scanned == files_on_disk
    again = _scan_school(trust, "school1")
    assert sum(p.read for p in again) == 0
    assert sum(p.items for p in again) == sum(p.items for p in first)
    assert {p.part for p in again} == {p.name for p, _ in school_parts(settings, 3)}


def test_a_single_school_ledger_is_migrated_to_the_default_school(tmp_path):
    """A ledger of the previous release: its audit records become the default school's,
    which is the school every single-school config is."""
    import sqlite3

    from dataward.ledger import Ledger
    from dataward.settings import load_settings
    src = Path(__file__).resolve().parents[1] / "data" / "ledgers"
    shutil.copy(src / "ledger-0.1.0.sqlite", tmp_path / "ledger.sqlite")
    shutil.copy(src / "ledger-0.1.0.audit.head", tmp_path / "audit.head")
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}",
                school_id=load_settings().school.id) as ledger:
        assert len(ledger.audit_records()) == 2
        ledger.audit("test.after", "x", actor="tester")
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", school_id="other") as other:
        assert other.audit_records() == []
        assert other.verify_audit().ok
    rows = sqlite3.connect(tmp_path / "ledger.sqlite").execute(
        "select school_id from audit").fetchall()
    assert rows == [("default",)] * 3


def test_parts_are_batched_large_first_and_single_at_the_end():
    """Few tasks (Prefect's cost is per task) and a short tail (workers finish together);
    every part once, in the interleaved order."""
    from dataward.trust.parts import Part, batches
    parts = [Part(f"s{i % 20}", f"share{i}", f"share{i}") for i in range(60)]
    two = batches(parts, 2)
    assert [len(b) for b in two] == [15, 12, 9, 6, 5, 4, 3, 2, 1, 1, 1, 1]
    assert [p for b in two for p in b] == parts
    assert [len(b) for b in batches(parts, 1)] == [30, 15, 8, 4, 2, 1]
    assert [len(b) for b in batches(parts[:3], 8)] == [1, 1, 1]
    assert batches([], 2) == []
