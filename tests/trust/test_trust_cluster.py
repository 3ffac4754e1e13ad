"""Many schools scanned on a real Dask cluster (`dask scheduler` and two `dask worker`
processes) through Prefect's Dask task runner: every part of every school is scanned
once, results land in one hive-partitioned Parquet dataset that pyarrow reads without
dataward, a school whose share is missing does not stop the others, and a worker killed
with SIGKILL mid-scan costs a retry, never a double count."""
from __future__ import annotations

import os
import re
import shutil
import signal
import threading

import pyarrow.compute as pc
import pyarrow.dataset as ds
import sqlalchemy as sa

from dataward.trust.config import load_trust

from .conftest import wait_until


def _files_on_disk(trust, school_id: str) -> int:
    settings = trust.school_settings(school_id)
    return sum(1 for s in settings.sources if s.path.exists()
               for p in s.path.rglob("*") if p.is_file())


def _top_items(table, school_id: str) -> int:
    rows = table.filter(pc.equal(table["school"], school_id))
    return sum(1 for loc in rows["locator"].to_pylist() if "!/" not in loc and "#" not in loc)


def test_a_trust_scanned_on_the_cluster_lands_in_one_dataset(make_trust, dask_cluster, tmp_path,
                                                             cli):
    from dataward.flows.trust import trust_scan
    path = make_trust(3, results=str(tmp_path / "results"))
    trust = load_trust(path)
    # school3's pupils share is not there tonight (unmounted, renamed on the server).
    shutil.move(tmp_path / "school3" / "demo-share" / "pupils", tmp_path / "away")
    out = trust_scan(str(path), dask_address=dask_cluster.address)

    schools = {s["school_id"]: s for s in out["schools"]}
    assert schools["school1"]["status"] == schools["school2"]["status"] == "complete"
    assert schools["school3"]["status"] == "partial"
    assert sorted(schools["school3"]["unavailable"]) == ["pupils.part1of2", "pupils.part2of2"]
    assert len({p["worker"] for p in out["parts"]}) == 2     # both workers scanned
    assert all(p["preloaded"] for p in out["parts"])        # started with --preload

    # Read back with pyarrow alone: the layout is school=<id>/scan_date=<date>/<part>.parquet.
    items = ds.dataset(tmp_path / "results" / "items", format="parquet",
                       partitioning="hive").to_table()
    assert set(items["school"].to_pylist()) == {"school1", "school2", "school3"}
    assert len(set(items["scan_date"].to_pylist())) == 1
    for sid in ("school1", "school2", "school3"):
        assert _top_items(items, sid) == _files_on_disk(trust, sid)
    findings = ds.dataset(tmp_path / "results" / "findings", format="parquet",
                          partitioning="hive").to_table()
    assert findings.num_rows == out["dataset"]["findings"] > 0
    try:
        import duckdb
    except ImportError:
        duckdb = None          # optional: pyarrow above is the reader every trust has
    if duckdb is not None:
        n = duckdb.sql(f"select count(*) from read_parquet('{tmp_path}/results/items/*/*/*.parquet',"  # noqa: S608 - the test's own folder
                       " hive_partitioning=true)").fetchone()[0]
        assert n == items.num_rows

    # One page for the trust's DPO: schools side by side, each school's own page linked.
    from dataward.backup.records import RestoreTestRecord, record_restore_test
    from dataward.home import open_ledger
    with open_ledger(trust.school_settings("school2")) as ledger:
        record_restore_test(ledger, RestoreTestRecord("2026-11-28T02:00:00+00:00", "offsite",
                                                      "ab12cd34", "passed", 9, 9, 0, 900))
    result = cli("report", "--trust", path, "--out", tmp_path / "trust-report")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "trust-report" / "index.html").read_text()
    rows = {sid: page.split(f">{sid}</a>")[1].split("</tr>")[0] for sid in schools}
    assert "pupils.part1of2, pupils.part2of2" in rows["school3"]
    assert "pupils.part" not in rows["school1"] + rows["school2"]
    assert "2026-11-28 02:00 (passed)" in rows["school2"]
    assert "2026-11-28" not in rows["school1"] + rows["school3"]   # school2's test only
    for sid in schools:
        assert f"href='school-{sid}.html'" in page
        own = (tmp_path / "trust-report" / f"school-{sid}.html").read_text()
        cells = re.findall(r"<td>([^<]*)</td>", rows[sid])
        assert int(cells[1]) == pc.sum(pc.equal(items["school"], sid)).as_py()
        assert sid in own and "Riskiest" in own


def test_a_worker_killed_mid_scan_is_retried_and_nothing_counts_twice(
        make_trust, dask_cluster, tmp_path, trust_db):
    from dataward.flows.trust import trust_scan
    path = make_trust(2, results=str(tmp_path / "results"))
    trust = load_trust(path)
    engine = sa.create_engine(trust_db)
    out: dict = {}
    runner = threading.Thread(target=lambda: out.update(
        trust_scan(str(path), dask_address=dask_cluster.address)))
    runner.start()

    # Caught mid-part (its item readers stopped, so the part cannot finish first), then
    # killed: no window between finding a scanning worker and the kill.
    victim, _readers = wait_until(dask_cluster.freeze_a_scanning_worker, timeout=240, step=0.1)
    os.kill(victim, signal.SIGKILL)          # its readers die with it (PR_SET_PDEATHSIG)
    runner.join(timeout=600)
    assert not runner.is_alive()
    with engine.connect() as conn:
        statuses = [r[0] for r in conn.execute(sa.text("select status from scans"))]
    # The killed scan never finished: still running, or marked interrupted by the next scan.
    assert {"running", "interrupted"} & set(statuses)
    schools = {s["school_id"]: s for s in out["schools"]}
    assert all(s["status"] == "complete" for s in schools.values())   # ... its retry did
    parts = [(p["school_id"], p["part"]) for p in out["parts"]]
    assert len(parts) == len(set(parts)) == 2 * 3 * 2
    items = ds.dataset(tmp_path / "results" / "items", format="parquet",
                       partitioning="hive").to_table()
    for sid in ("school1", "school2"):
        assert _top_items(items, sid) == _files_on_disk(trust, sid)
    dask_cluster.wait_workers(2)           # the nanny brought the worker back
    engine.dispose()



def test_a_trust_scanned_without_a_cluster_address_gets_the_preload_too(make_trust, prefect_api,
                                                                        tmp_path, monkeypatch):
    """`dataward trust scan` with no --dask-address starts a local cluster: its workers
    load the scan stack as they start, as a real cluster's `--preload` does, instead of
    each paying for it on its first part."""
    from dataward.flows.trust import trust_scan
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)  # the local workers are new processes
    path = make_trust(1, results=str(tmp_path / "results"))
    out = trust_scan(str(path), dask_workers=2)
    assert [s["status"] for s in out["schools"]] == ["complete"]
    assert out["parts"] and all(p["preloaded"] for p in out["parts"])
    assert all(p["worker"].split(":")[1] != str(os.getpid()) for p in out["parts"])
