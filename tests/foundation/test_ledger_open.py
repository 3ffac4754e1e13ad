"""Several processes opening a new SQLite ledger at the same moment (the nightly scan, a
backup and a CLI command started together on a fresh install) must all get a working
ledger: no "table ... already exists", no "database is locked" (the cause of
test_concurrent_writers_keep_one_chain_on_sqlite failing about 1 run in 30)."""
from __future__ import annotations

import threading

from dataward.ledger import Ledger


def _open_together(url: str, openers: int) -> list[BaseException]:
    # Importing these declares every table dataward has, as a real run does.
    import dataward.assets.tables
    import dataward.backup.records
    import dataward.retention.store  # noqa: F401 - imported as a real run imports them

    barrier = threading.Barrier(openers)
    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            barrier.wait()
            with Ledger(url) as ledger:
                ledger.audit("test.open", f"w{w}", actor=f"opener{w}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_many_openers_of_a_new_sqlite_ledger_all_succeed(tmp_path):
    failures: list[str] = []
    for round_ in range(25):
        (tmp_path / str(round_)).mkdir()  # one folder each: audit.head sits beside the ledger
        url = f"sqlite:///{tmp_path / str(round_) / 'ledger.sqlite'}"
        errors = _open_together(url, 6)
        failures += [str(e) for e in errors]
        if errors:
            continue
        with Ledger(url) as ledger, ledger.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            verdict = ledger.verify_audit()
            assert verdict.ok and verdict.records == 6
    assert failures == []


HOLD_WRITE_LOCK = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("CREATE TABLE other_writer (a)")
print("locked", flush=True)
time.sleep(1.5)
c.execute("COMMIT")
"""


def test_opening_waits_for_another_process_writing_a_new_ledger(tmp_path):
    """Another process holds the write lock of a ledger file not yet in WAL mode: SQLite
    answers a journal-mode change with "database is locked" at once, without waiting on
    the busy timeout, so opening the ledger failed instead of waiting its turn."""
    import subprocess
    import sys

    db = tmp_path / "ledger.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with Ledger(f"sqlite:///{db}") as ledger, ledger.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            # It waited for the other writer's commit, then created its own tables.
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
            assert {"other_writer", "audit", "scans"} <= tables
    finally:
        assert holder.wait(timeout=30) == 0
