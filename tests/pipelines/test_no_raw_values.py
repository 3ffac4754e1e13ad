"""Invariant 1: no raw personal value in anything dataward writes.

Every file under the state folder and the output folder is read back (Parquet decoded,
SQLite read as bytes and through its tables, logs as text) and searched for each planted
value in the forms it was written."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow.parquet as pq

RAW_VALUES = ["Amelia Khan", "U820200014013", "943 476 5919", "9434765919", "12/03/2014",
              "AB 12 34 56 C", "AB123456C", "020 7946 0123", "amelia.khan@example.co.uk",
              "B33 8TH"]


def _texts(root: Path):
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield path, data.decode("utf-8", "replace")
        if path.suffix == ".parquet":
            yield path, pq.read_table(path).to_pandas().to_csv()
        if data.startswith(b"SQLite format 3"):
            with sqlite3.connect(path) as db:
                for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                    yield path, repr(db.execute(f"SELECT * FROM {table}").fetchall())  # noqa: S608 - names from sqlite_master


def test_nothing_written_holds_a_planted_value(cli, settings, tmp_path, dw_home, share, roster):
    cfg = settings.config_path
    assert cli("--config", cfg, "--verbose", "scan").exit_code == 0
    adhoc_out = tmp_path / "adhoc-out"
    r = cli("scan", share, "--roster", roster, "--out", adhoc_out, "--json")
    assert r.exit_code == 0, r.output
    # Sanity: the values really were found (so the search below means something).
    assert '"UK_UPN"' in r.stdout and '"PERSON"' in r.stdout
    checked = 0
    for root in (dw_home, adhoc_out):
        for path, text in _texts(root):
            if path.name == "fingerprint.key":
                continue
            checked += 1
            lowered = text.lower()
            for raw in RAW_VALUES:
                assert raw.lower() not in lowered, f"{raw!r} written to {path}"
    assert checked >= 6  # ledger, audit head, log, two scans' Parquet files
