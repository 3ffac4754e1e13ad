"""The school server's local cache of one repository (SQLite, in the state folder).

Nothing here is authoritative: the repository can always be read again. The cache
holds what makes runs fast and resumable:

* ``pending``: packs uploaded but not yet named by an index object (a run killed with
  ``kill -9`` leaves some; the next run checks they exist, reuses and indexes them);
* ``files``: path, size, mtime, ctime, inode and chunk ids of every file of the last
  run, so an unchanged file is not read again;
* ``indexes``: index objects already fetched; ``summaries``: snapshot summaries already
  checked (so `list` and `prune` need not download every snapshot's file tree);
  ``retention``: lock dates already set.

Paths are stored as bytes (any name a file system allows). The file table holds paths (the server has the files anyway); it never leaves the
server and lives in the 0700 state folder.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .format import BLOB_ENTRY

SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (pack TEXT PRIMARY KEY, entries BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS files (path BLOB PRIMARY KEY, size INTEGER, mtime_ns INTEGER,
    ctime_ns INTEGER, inode INTEGER, chunks BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS indexes (id TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS retention (key TEXT PRIMARY KEY, until TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS summaries (id TEXT PRIMARY KEY, summary TEXT NOT NULL);
"""


def _optional(sql: str, args: Any, db: sqlite3.Connection, many: bool = False) -> None:
    """A write the cache can do without: index objects and snapshot summaries are only
    ever used for names the repository still lists. Another run on this server that holds
    the cache's write lock (stopped mid-write: a server that went to sleep) must not make
    this one fail; the entry is simply not cached this time."""
    try:
        if many:
            db.executemany(sql, args)
        else:
            db.execute(sql, args)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise


class RepoCache:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = folder / "cache.sqlite"
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()  # upload threads record pending packs

    def close(self) -> None:
        self.db.close()

    # pending packs -----------------------------------------------------------------
    def add_pending(self, pack: str, entries: list[tuple[bytes, int, int, int]]) -> None:
        blob = b"".join(BLOB_ENTRY.pack(*e) for e in entries)
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?)", (pack, blob))

    def pending(self) -> dict[str, list[tuple[bytes, int, int, int]]]:
        out = {}
        for pack, blob in self.db.execute("SELECT pack, entries FROM pending"):
            out[pack] = [BLOB_ENTRY.unpack_from(blob, i) for i in range(0, len(blob), BLOB_ENTRY.size)]
        return out

    def clear_pending(self, packs: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM pending WHERE pack = ?", [(p,) for p in packs])

    # file cache --------------------------------------------------------------------
    def file_chunks(self, path: str, size: int, mtime_ns: int, ctime_ns: int,
                    inode: int) -> list[bytes] | None:
        with self.lock:
            row = self.db.execute(
                "SELECT chunks FROM files WHERE path = ? AND size = ? AND mtime_ns = ? "
                "AND ctime_ns = ? AND inode = ?",
                (os.fsencode(path), size, mtime_ns, ctime_ns, inode)).fetchone()
        if row is None:
            return None
        blob = row[0]
        return [blob[i:i + 32] for i in range(0, len(blob), 32)]

    def replace_files(self, rows: Iterator[tuple[str, int, int, int, int, bytes]],
                      roots: list[str]) -> None:
        """Make the file table what this run saw under ``roots`` (one transaction)."""
        self.db.execute("BEGIN")
        try:
            for root in roots:
                r = os.fsencode(root.rstrip("/"))
                self.db.execute("DELETE FROM files WHERE path = ? OR substr(path, 1, ?) = ?",
                                (r, len(r) + 1, r + b"/"))
            self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                                ((os.fsencode(r[0]), *r[1:]) for r in rows))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def forget_files(self) -> None:
        """Drop the file table once packs were deleted. A write the cache can do without
        (``_optional``): an entry is trusted only when every chunk it names is in the
        index a run loaded, so one left behind (another run on this server holds the
        cache's lock, stopped mid-write) never points a snapshot at a deleted pack."""
        _optional("DELETE FROM files", (), self.db)

    # index objects -----------------------------------------------------------------
    def index_objects(self) -> dict[str, bytes]:
        return dict(self.db.execute("SELECT id, data FROM indexes"))

    def put_index(self, name: str, data: bytes) -> None:
        _optional("INSERT OR REPLACE INTO indexes VALUES (?, ?)", (name, data), self.db)

    def drop_indexes(self, names: Iterable[str]) -> None:
        _optional("DELETE FROM indexes WHERE id = ?", [(n,) for n in names], self.db, many=True)

    # snapshot summaries (objects are immutable: a summary checked once stays true) ----
    def summaries(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, summary FROM summaries"))

    def put_summary(self, name: str, summary: str) -> None:
        _optional("INSERT OR REPLACE INTO summaries VALUES (?, ?)", (name, summary), self.db)

    def drop_summaries(self, names: Iterable[str]) -> None:
        _optional("DELETE FROM summaries WHERE id = ?", [(n,) for n in names], self.db, many=True)

    # retention ---------------------------------------------------------------------
    def retention(self, key: str) -> datetime | None:
        row = self.db.execute("SELECT until FROM retention WHERE key = ?", (key,)).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def set_retention(self, key: str, until: datetime) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO retention VALUES (?, ?)", (key, until.isoformat()))
