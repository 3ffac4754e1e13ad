"""The report's readers of tables a school may not use (backups, subject access requests,
review decisions, remediation) share one rule: a ledger without the table, or with one it
cannot read, gives an empty answer and the report goes on."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from dataward.ledger import Ledger
from dataward.pipelines.report_extras import latest_backup, latest_restore_test, overdue_sars
from dataward.pipelines.report_review import load_decisions, successors

READERS = {"backup_restore_tests": (latest_restore_test, None),
           "backup_snapshots": (latest_backup, None),
           "sar_requests": (overdue_sars, []),
           "review_decisions": (load_decisions, []),
           "remediation_items": (successors, {})}


def test_readers_of_optional_tables_answer_empty_when_a_table_is_missing_or_unreadable(
        tmp_path: Path):
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        assert {t: read(ledger) for t, (read, _) in READERS.items()} == {
            t: empty for t, (_, empty) in READERS.items()}     # present, with no rows
        with ledger.engine.begin() as conn:
            for table in READERS:
                conn.execute(text(f"DROP TABLE {table}"))
        assert {t: read(ledger) for t, (read, _) in READERS.items()} == {
            t: empty for t, (_, empty) in READERS.items()}     # missing
        with ledger.engine.begin() as conn:
            for table in READERS:
                conn.execute(text(f"CREATE TABLE {table} (unrelated TEXT)"))
                conn.execute(text(f"INSERT INTO {table} VALUES ('x')"))  # noqa: S608 - the test's own table names
        assert {t: read(ledger) for t, (read, _) in READERS.items()} == {
            t: empty for t, (_, empty) in READERS.items()}     # not readable as expected
