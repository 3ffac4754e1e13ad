"""The ledger on a real PostgreSQL server (a trust's deployment), started on loopback by
the test: the same audit chain, tamper detection and scan catalog as on SQLite."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from dataward.ledger import Ledger


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian package postgresql)")
    return found


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and the server refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres_url():
    with running_postgres() as url:
        yield url


# Server URL -> its data folder, for the tests that restart a server mid-run.
DATA_DIRS: dict[str, Path] = {}


def restart_postgres(url: str) -> None:
    """Restart the server behind ``url`` as an administrator would (``pg_ctl restart -m
    fast``: every connection is ended, the server is back once this returns)."""
    data = DATA_DIRS[url.rsplit("/", 1)[0] + "/postgres"]
    subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(data / "db"), "-w", "-m", "fast",
                                 "-l", str(data / "log"), "restart"]),
                   check=True, capture_output=True)


@contextmanager
def running_postgres() -> Iterator[str]:
    """A PostgreSQL server on a free loopback port for as long as the block runs."""
    data = Path(tempfile.mkdtemp(prefix="dw-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_postgres([_bin("initdb"), "-D", str(data / "db"), "-A", "trust",
                                 "-U", "dataward", "--no-sync"]),
                   check=True, capture_output=True)
    subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(data / "db"), "-w", "-l",
                                 str(data / "log"), "-o",
                                 f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
                                 "start"]), check=True, capture_output=True)
    url = f"postgresql+psycopg://dataward@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sa.create_engine(url).connect().close()
                break
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        DATA_DIRS[url] = data
        yield url
    finally:
        DATA_DIRS.pop(url, None)
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(data / "db"), "-m", "immediate",
                                     "stop"]), capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_audit_chain_on_postgres(postgres_url):
    with Ledger(postgres_url) as ledger:
        for i in range(4):
            ledger.audit("test.step", f"item-{i}", actor="tester", n=i)
        verdict = ledger.verify_audit()
        assert verdict.ok and verdict.records == 4
        with ledger.engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit SET details = '{\"n\": 9}' WHERE seq = 2"))
        problems = ledger.verify_audit().problems
        assert any("record 2" in p and "altered" in p for p in problems)


def test_a_scan_with_its_ledger_on_postgres(postgres_url, dw_home, tmp_path):
    from dataward.pipelines.scan import run_scan
    from dataward.settings import load_settings

    share = tmp_path / "share"
    share.mkdir()
    (share / "note.txt").write_text("Pupil UPN U820200014013, DOB: 12/03/2014\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"database_url: {postgres_url}\nsources:\n  - {{name: s, path: {share}}}\n")
    settings = load_settings(cfg)
    first = run_scan(settings)
    again = run_scan(settings)
    assert (first.findings, again.reused) == (2, 1)
    with Ledger.for_settings(settings) as ledger:
        assert ledger.get_scan("latest").scan_id == again.scan_id
        assert [r.action for r in ledger.audit_records(action_prefix="scan.")][-2:] == [
            "scan.complete", "scan.complete"]


def _append_concurrently(url: str, writers: int = 4, each: int = 15) -> None:
    import threading

    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            with Ledger(url) as ledger:
                for i in range(each):
                    ledger.audit("test.concurrent", f"w{w}-{i}", actor=f"writer{w}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_concurrent_writers_keep_one_chain_on_postgres(postgres_url):
    with Ledger(postgres_url) as ledger, ledger.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit"))
        conn.execute(sa.text("DELETE FROM meta WHERE key = 'audit_head'"))
    _append_concurrently(postgres_url)
    with Ledger(postgres_url) as ledger:
        verdict = ledger.verify_audit()
    assert verdict.ok and verdict.records == 60


def test_concurrent_writers_keep_one_chain_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    _append_concurrently(url)
    with Ledger(url) as ledger:
        verdict = ledger.verify_audit()
    assert verdict.ok and verdict.records == 60
