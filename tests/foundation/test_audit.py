"""The audit log: a hash chain that notices edits, deletions and a lost tail."""
from __future__ import annotations

import sqlite3

import pytest

from dataward.errors import IntegrityError
from dataward.ledger import Ledger, verify_or_raise


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    for i in range(5):
        led.audit("test.step", f"item-{i}", actor="tester", n=i)
    yield led
    led.close()


def _db(tmp_path):
    return sqlite3.connect(tmp_path / "ledger.sqlite")


def test_intact_log_verifies(ledger):
    verdict = verify_or_raise(ledger)
    assert verdict.ok and verdict.records == 5


def test_edited_record_is_detected(ledger, tmp_path):
    with _db(tmp_path) as db:
        db.execute("UPDATE audit SET details = '{\"n\": 99}' WHERE seq = 3")
    verdict = ledger.verify_audit()
    assert not verdict.ok
    assert any("record 3" in p and "altered" in p for p in verdict.problems)
    with pytest.raises(IntegrityError):
        verify_or_raise(ledger)


def test_deleted_middle_record_is_detected(ledger, tmp_path):
    with _db(tmp_path) as db:
        db.execute("DELETE FROM audit WHERE seq = 2")
    problems = ledger.verify_audit().problems
    assert any("missing" in p for p in problems)


def test_truncated_tail_is_detected(ledger, tmp_path):
    with _db(tmp_path) as db:
        db.execute("DELETE FROM audit WHERE seq = 5")
    problems = ledger.verify_audit().problems
    assert any("ends at record 5" in p for p in problems)


def test_rehashed_forgery_is_caught_by_head_file(ledger, tmp_path):
    """An attacker who rewrites the tail and the ledger's head still misses audit.head."""
    with _db(tmp_path) as db:
        db.execute("DELETE FROM audit WHERE seq = 5")
        db.execute("UPDATE meta SET value = (SELECT json_object('seq', seq, 'hash', hash) "
                   "FROM audit WHERE seq = 4) WHERE key = 'audit_head'")
    problems = ledger.verify_audit().problems
    assert problems and all("audit.head file" in p for p in problems)


def test_cli_verify_exit_codes(cli, dw_home):
    assert cli("init").exit_code == 0  # writes the first audit record
    ok = cli("audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.stdout
    with sqlite3.connect(dw_home / "ledger.sqlite") as db:
        db.execute("UPDATE audit SET actor = 'mallory'")
    bad = cli("audit", "verify")
    assert bad.exit_code == 6
    assert "altered" in bad.output


def test_a_transaction_that_does_not_commit_leaves_no_head_behind(ledger, tmp_path):
    """A record appended inside a transaction that then fails is not in the ledger, so the
    head file must not name it either (that would be a false tamper alarm)."""
    with pytest.raises(RuntimeError):
        with ledger.begin() as conn:
            ledger.audit("test.step", "rolled-back", actor="tester", conn=conn)
            raise RuntimeError("the caller's work failed after the audit record")
    assert verify_or_raise(ledger).records == 5
    ledger.audit("test.step", "after", actor="tester")
    assert verify_or_raise(ledger).records == 6
