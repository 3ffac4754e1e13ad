"""Faults a trust's night can bring, with real processes: the Dask scheduler crashing and
being started again mid-scan, PostgreSQL (the shared ledger) restarted mid-scan. Each
time every school completes, every part is in the dataset once, and the counts are the
files on disk. (A worker killed mid-scan and a share that is not there are in
test_trust_cluster.py.)"""
from __future__ import annotations

import threading
from pathlib import Path

import pyarrow.dataset as ds
import sqlalchemy as sa

from dataward.trust.config import load_trust

from ..foundation.test_ledger_postgres import restart_postgres
from .conftest import running_cluster, thaw, wait_until
from .test_trust_cluster import _files_on_disk, _top_items


def _scan_in_background(path: Path, address: str) -> tuple[threading.Thread, dict]:
    from dataward.flows.trust import trust_scan
    out: dict = {}

    def run() -> None:
        try:
            out.update(trust_scan(str(path), dask_address=address))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            out["error"] = exc

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    return runner, out


def _every_part_once(out: dict, trust, results: Path, schools: int) -> None:
    assert "error" not in out, out.get("error")
    assert all(s["status"] == "complete" for s in out["schools"]), out["schools"]
    parts = [(p["school_id"], p["part"]) for p in out["parts"]]
    assert len(parts) == len(set(parts)) == schools * 3 * 2      # 3 shares, 2 parts each
    items = ds.dataset(results / "items", format="parquet", partitioning="hive").to_table()
    for sid in (s.id for s in trust.schools):
        assert _top_items(items, sid) == _files_on_disk(trust, sid)


def test_the_scheduler_crashes_and_is_started_again_mid_scan(make_trust, prefect_api, tmp_path):
    path = make_trust(2, results=str(tmp_path / "results"))
    with running_cluster(prefect_api, tmp_path / "dask") as cluster:
        runner, out = _scan_in_background(path, cluster.address)
        _worker, readers = wait_until(cluster.freeze_a_scanning_worker, timeout=240, step=0.1)
        cluster.restart_scheduler()                # while that part is still being read
        thaw(readers)
        runner.join(timeout=900)
        assert not runner.is_alive()
        log = (tmp_path / "dask" / "scheduler.log").read_text(errors="replace")
        assert log.count("Scheduler at:") == 2                    # it really was restarted
    _every_part_once(out, load_trust(path), tmp_path / "results", 2)


def test_postgresql_restarted_mid_scan(make_trust, dask_cluster, pg_server, trust_db, tmp_path):
    path = make_trust(2, results=str(tmp_path / "results"))
    runner, out = _scan_in_background(path, dask_cluster.address)
    _worker, readers = wait_until(dask_cluster.freeze_a_scanning_worker, timeout=240, step=0.1)
    engine = sa.create_engine(trust_db, pool_pre_ping=True)   # its connection ends too
    with engine.connect() as conn:
        before = conn.exec_driver_sql("select pg_postmaster_start_time()").scalar()
    restart_postgres(pg_server)          # while that part, its ledger open, is being read
    thaw(readers)
    runner.join(timeout=900)
    assert not runner.is_alive()
    with engine.connect() as conn:
        after = conn.exec_driver_sql("select pg_postmaster_start_time()").scalar()
        statuses = [r[0] for r in conn.exec_driver_sql("select status from scans")]
    engine.dispose()
    assert after > before                                         # it really was restarted
    assert "error" not in out, out.get("error")
    assert all(s["status"] == "complete" for s in out["schools"]), out["schools"]
    # The part read across the restart wrote its result on a fresh connection: no scan
    # failed and had to be done again.
    assert "failed" not in statuses and statuses.count("complete") == 2 * 3 * 2
    _every_part_once(out, load_trust(path), tmp_path / "results", 2)
