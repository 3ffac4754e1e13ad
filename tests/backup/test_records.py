"""The ledger's backup records, read back per school: a trust's schools share one ledger,
and each school's newest snapshot and newest restore test are its own."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from dataward.backup.records import (
    RestoreTestRecord,
    last_restore_test,
    last_snapshot,
    record_restore_test,
    record_snapshot,
)
from dataward.ledger import Ledger


def _snapshot(snapshot_id: str) -> SimpleNamespace:
    return SimpleNamespace(snapshot_id=snapshot_id, target="offsite", files=3, bytes=300,
                           bytes_new=300, bytes_uploaded=200, errors=0, seconds=1.0)


def test_newest_snapshot_and_restore_test_are_the_schools_own(tmp_path: Path):
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        a, b = ledger.for_school("oak"), ledger.for_school("elm")
        assert last_snapshot(a) is None and last_restore_test(a) is None
        record_snapshot(a, _snapshot("aaaa1111"))
        record_restore_test(a, RestoreTestRecord("2026-11-01T10:00:00", "offsite", "aaaa1111",
                                                 "passed", 3, 3, 0, 300))
        record_snapshot(a, _snapshot("aaaa2222"))
        record_restore_test(a, RestoreTestRecord("2026-11-02T10:00:00", "offsite", "aaaa2222",
                                                 "failed", 3, 2, 1, 300))
        record_snapshot(b, _snapshot("bbbb1111"))      # the other school's, written last
        record_restore_test(b, RestoreTestRecord("2026-11-03T10:00:00", "offsite", "bbbb1111",
                                                 "passed", 1, 1, 0, 10))
        assert (last_snapshot(a).snapshot_id, last_restore_test(a).snapshot_id) == (
            "aaaa2222", "aaaa2222")
        assert last_restore_test(a).status == "failed"
        assert (last_snapshot(b).snapshot_id, last_restore_test(b).snapshot_id) == (
            "bbbb1111", "bbbb1111")


def test_the_school_report_shows_the_schools_own_newest_backup(tmp_path: Path):
    """The DPO report's backup line and the trust report read the same school's snapshot."""
    from dataward.pipelines.report_extras import latest_backup, latest_restore_test
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        a, b = ledger.for_school("oak"), ledger.for_school("elm")
        record_snapshot(a, _snapshot("aaaa1111"))
        record_restore_test(a, RestoreTestRecord("2026-11-01T10:00:00", "offsite", "aaaa1111",
                                                 "passed", 3, 3, 0, 300))
        record_snapshot(b, _snapshot("bbbb1111"))      # the other school's, written last
        assert latest_backup(a).snapshot == "aaaa1111"
        assert latest_restore_test(a).snapshot == "aaaa1111"
        assert latest_backup(b).snapshot == "bbbb1111"
        assert latest_restore_test(b) is None
