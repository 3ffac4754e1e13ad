"""Running the migrations: the current revision, the head, a lock, the upgrade."""
from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

HERE = Path(__file__).parent
# A fixed advisory-lock key for PostgreSQL: every dataward process migrating one database.
PG_LOCK_KEY = zlib.crc32(b"dataward ledger migrations")


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


@lru_cache(maxsize=1)
def head() -> str:
    heads = ScriptDirectory.from_config(_config()).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: merge them"
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def migration_lock(engine: Engine, url: str) -> Iterator[None]:
    if engine.dialect.name == "sqlite" and url.startswith("sqlite:///"):
        lock_path = Path(url.removeprefix("sqlite:///")).with_suffix(".migrate.lock")
        with open(lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield
        return
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({PG_LOCK_KEY})")
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({PG_LOCK_KEY})")
                conn.commit()
        return
    yield  # an in-memory SQLite database has one user


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade to ``revision`` unless another process did while we waited for the lock."""
    with engine.begin() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head() \
                and revision == "head":
            return
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
