"""What a trust's cluster does outside the scan itself: each part's rows are written into
the trust's dataset by the worker that scanned it (the flow waits for no writing at the
end of the night), a part whose rows cannot be written goes back for another round, and
the preload gives the scheduler the task modules it unpickles (not the scan stack)."""
from __future__ import annotations

import pyarrow.dataset as ds

from dataward.trust.config import load_trust
from dataward.trust.scan import prepare_school, scan_parts


def test_a_batch_writes_each_part_into_the_dataset_as_it_is_scanned(make_trust, tmp_path):
    trust = load_trust(make_trust(1, results=str(tmp_path / "results")))
    parts = prepare_school(trust, "school1")
    done, failed = scan_parts(trust, parts)
    assert failed == [] and len(done) == len(parts) == 6
    assert not any(p.preloaded for p in done)  # a plain process: no Dask preload ran here

    items = ds.dataset(tmp_path / "results" / "items", format="parquet",
                       partitioning="hive").to_table()
    assert set(items["share"].to_pylist()) == {"admin", "pupils", "staff"}
    assert items.num_rows == sum(p.items for p in done) > 0
    files = sorted(f.name for f in (tmp_path / "results" / "items").rglob("*.parquet"))
    assert files == sorted(f"{p.name}.parquet" for p in parts)
    # Each part says what it cost in CPU: its thread in the worker and its item readers
    # (a part whose folders hold nothing to read starts none).
    assert all(p.call_cpu > 0 for p in done)
    assert all(p.reader_cpu > 0 for p in done if p.read) and any(p.read for p in done)


def test_a_part_whose_rows_cannot_be_written_is_handed_back(make_trust, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the results folder should be")
    trust = load_trust(make_trust(1, results=str(blocked / "results")))
    parts = prepare_school(trust, "school1")
    done, failed = scan_parts(trust, parts[:2])
    assert done == []
    assert [p for p, _ in failed] == parts[:2]     # the flow scans them again next round


def test_the_scheduler_preload_loads_the_task_modules_not_the_scan_stack(dask_cluster):
    def loaded() -> dict[str, bool]:
        import sys
        return {name: name in sys.modules for name in (
            "prefect.task_engine", "dataward.flows.trust", "presidio_analyzer")}

    with dask_cluster.client() as client:
        on_scheduler = client.run_on_scheduler(loaded)
    assert on_scheduler == {"prefect.task_engine": True, "dataward.flows.trust": True,
                            "presidio_analyzer": False}
