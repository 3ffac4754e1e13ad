"""The ledger schema is migrated, not recreated: a ledger made by the previous release
opens, is brought up to date with its records intact, and every migrated database matches
``dataward.schema`` exactly, on SQLite and on PostgreSQL."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dataward.ledger import Ledger, verify_or_raise
from dataward.migrations import runner
from dataward.schema import metadata

from .test_ledger_postgres import postgres_url  # noqa: F401 - the real PostgreSQL fixture

PREVIOUS = Path(__file__).resolve().parents[1] / "data" / "ledgers"


def _differences(ledger: Ledger) -> list:
    with ledger.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def _previous_release_ledger(tmp_path: Path) -> Path:
    """The ledger file dataward 0.1.0 wrote (tests/data/ledgers), with its audit head."""
    db = tmp_path / "ledger.sqlite"
    shutil.copy(PREVIOUS / "ledger-0.1.0.sqlite", db)
    shutil.copy(PREVIOUS / "ledger-0.1.0.audit.head", tmp_path / "audit.head")
    return db


def test_a_ledger_of_the_previous_release_is_migrated_with_its_records(tmp_path):
    db = _previous_release_ledger(tmp_path)
    tables = {r[0] for r in sqlite3.connect(db).execute("select name from sqlite_master")}
    assert "alembic_version" not in tables and "audit" in tables
    with Ledger(f"sqlite:///{db}") as ledger:
        assert runner.current_revision(ledger.engine) == runner.head()
        assert _differences(ledger) == []
        verdict = verify_or_raise(ledger)               # the old chain, untouched
        assert verdict.records == 2
        ledger.audit("test.after-upgrade", "x", actor="tester")
        assert verify_or_raise(ledger).records == 3


def test_a_partial_ledger_of_the_previous_release_gains_its_missing_tables(tmp_path):
    """0.1.0 created tables as each part was first used: a school that only scanned has no
    retention tables. They are created; the ones it has are kept."""
    db = _previous_release_ledger(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("drop table retention_items")
        conn.execute("drop table transfer_packages")
    with Ledger(f"sqlite:///{db}") as ledger:
        assert _differences(ledger) == []
        assert verify_or_raise(ledger).records == 2


def test_a_new_ledger_matches_the_schema_on_sqlite(tmp_path):
    with Ledger(f"sqlite:///{tmp_path / 'new.sqlite'}") as ledger:
        assert _differences(ledger) == []


def test_a_new_ledger_matches_the_schema_on_postgresql(postgres_url):  # noqa: F811 - the fixture imported above
    with Ledger(postgres_url) as ledger:
        assert runner.current_revision(ledger.engine) == runner.head()
        assert _differences(ledger) == []


OPEN = "import sys; from dataward.ledger import Ledger; Ledger(sys.argv[1]).close()"


def test_processes_opening_one_old_ledger_at_once_migrate_it_once(tmp_path):
    db = _previous_release_ledger(tmp_path)
    procs = [subprocess.Popen([sys.executable, "-c", OPEN, f"sqlite:///{db}"],
                              stderr=subprocess.PIPE) for _ in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with Ledger(f"sqlite:///{db}") as ledger:
        assert _differences(ledger) == []
        assert verify_or_raise(ledger).records == 2


def test_the_comparison_sees_a_column_added_without_a_migration():
    """The check the tests above rely on: a database that differs from dataward.schema by
    one column is reported, so a table changed without a revision fails them."""
    from sqlalchemy import Column, Integer, MetaData, Table, create_engine
    engine = create_engine("sqlite://")
    other = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(other)
    Table("scans", other, Column("added_without_migration", Integer), extend_existing=True)
    other.create_all(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d[0] for d in diffs] == ["remove_column"]


def test_the_quick_head_check_agrees_with_alembic():
    """Opening an up-to-date ledger skips importing Alembic: the newest revision read from
    the revision files must be the one Alembic itself finds."""
    from dataward.migrations.heads import quick_head
    assert quick_head() == runner.head()


def test_the_quick_head_check_gives_way_to_alembic_on_an_unusual_revision_file(tmp_path):
    """A revision file the quick reader cannot parse must not leave the ledger at the
    previous revision: the check answers None and Alembic decides."""
    from dataward.migrations.heads import VERSIONS, quick_head
    versions = tmp_path / "versions"
    shutil.copytree(VERSIONS, versions, ignore=shutil.ignore_patterns("__pycache__"))
    newest = runner.head()
    (versions / "9999_unusual.py").write_text(
        f'revision = "9999"  # written by hand\ndown_revision = "{newest}"\n')
    assert quick_head(versions) is None
    plain = tmp_path / "plain"  # another folder: the answer is cached per folder
    shutil.copytree(versions, plain)
    (plain / "9999_unusual.py").write_text(f'revision = "9999"\ndown_revision = "{newest}"\n')
    assert quick_head(plain) == "9999"


def test_a_ledger_one_revision_behind_is_upgraded_on_open(tmp_path):
    """The quick check must not mistake a ledger at the previous revision for an
    up-to-date one: it is migrated on open and then matches the schema."""
    from sqlalchemy import create_engine
    db = tmp_path / "ledger.sqlite"
    newest = ScriptDirectory.from_config(runner._config()).get_revision(runner.head())
    engine = create_engine(f"sqlite:///{db}")
    runner.upgrade(engine, newest.down_revision)
    assert runner.current_revision(engine) == newest.down_revision
    engine.dispose()
    with Ledger(f"sqlite:///{db}") as ledger:
        assert runner.current_revision(ledger.engine) == runner.head()
        assert _differences(ledger) == []
