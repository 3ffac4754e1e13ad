"""nightly_scan on the real Prefect test harness: the thread runner and a real local Dask
cluster of two worker processes find the same things; artifacts hold counts only; no
file Prefect writes under PREFECT_HOME holds a planted value; only transient errors are
retried."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.pipelines.conftest import RAW_VALUES, make_roster, make_share


@pytest.fixture
def config(dw_home: Path, tmp_path: Path) -> str:
    share, roster = make_share(tmp_path), make_roster(tmp_path)
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text(
        "school: {name: Test School}\n"
        "sources:\n"
        f"  - {{name: staff, path: {share / 'staff'}, audience: staff}}\n"
        f"  - {{name: pupils, path: {share / 'pupils'}, audience: pupils}}\n"
        f"rosters:\n  - {{path: {roster}, kind: pupils}}\n", encoding="utf-8")
    return str(cfg)


def _findings(out_dir: str) -> set[tuple[str, str, str]]:
    t = pq.read_table(Path(out_dir) / "findings.parquet",
                      columns=["locator", "entity_type", "fingerprint"]).to_pylist()
    return {(r["locator"], r["entity_type"], r["fingerprint"]) for r in t}


def _prefect_texts(flow_run_ids: list) -> list[str]:
    """Everything the Prefect API holds about the runs: artifacts and log lines (through
    the REST API, as the UI reads them)."""
    import httpx
    from prefect.settings import PREFECT_API_URL
    api = PREFECT_API_URL.value()
    ids = [str(i) for i in flow_run_ids]
    arts = httpx.post(f"{api}/artifacts/filter", json={
        "artifacts": {"flow_run_id": {"any_": ids}}, "limit": 200, "offset": 0}).json()
    logs = httpx.post(f"{api}/logs/filter", json={
        "logs": {"flow_run_id": {"any_": ids}}, "limit": 200, "offset": 0}).json()
    assert len(arts) == 4, arts  # a table and a Markdown artifact per run
    return [str(a["data"]) + str(a["description"]) for a in arts] + [line["message"] for line in logs]


def test_thread_and_dask_runners_find_the_same_and_write_no_values(prefect_harness, config,
                                                                   caplog):
    from dataward.flows.scan import nightly_scan

    workers_log = logging.getLogger("dataward.scan.workers")  # Prefect stops its propagation
    workers_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="dataward.scan.workers"):
            thread_state = nightly_scan(config=config, full=True, return_state=True)
    finally:
        workers_log.removeHandler(caplog.handler)
    # Prefect's threads run in this process: its item workers came from a worker host
    # (issue 13), never forked from here.
    assert "item workers come from a worker host" in caplog.text
    threaded = thread_state.result()
    dask_state = nightly_scan(config=config, full=True, task_runner="dask", dask_workers=2,
                              return_state=True)
    dasked = dask_state.result()

    a, b = _findings(threaded["scan"]["out_dir"]), _findings(dasked["scan"]["out_dir"])
    assert threaded["scan"]["scan_id"] != dasked["scan"]["scan_id"]
    # The thread runner scans in this process; Dask in one of its worker processes.
    assert threaded["scan"]["worker"].endswith(f":{os.getpid()}")
    assert not dasked["scan"]["worker"].endswith(f":{os.getpid()}")
    assert a == b
    kinds = {e for _, e, _ in a}
    assert {"PERSON", "UK_UPN", "UK_NHS", "DATE_OF_BIRTH"} <= kinds
    assert dasked["scan"]["items"] == threaded["scan"]["items"] == 8
    assert dasked["scan"]["items_with_findings"] == 7  # every staff file; not the worksheet
    report = Path(dasked["report"]["path"])
    assert report.exists() and "Riskiest items" in report.read_text()

    # Artifacts and logs in the Prefect API: counts only.
    texts = _prefect_texts([thread_state.state_details.flow_run_id,
                            dask_state.state_details.flow_run_id])
    joined = "\n".join(texts)
    assert "items with personal data" in joined and "| UK_UPN |" in joined
    for value in RAW_VALUES:
        assert value not in joined

    # Nothing Prefect wrote under its home (results, caches, logs, database) holds a value.
    files = [p for p in Path(prefect_harness).rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        for value in RAW_VALUES:
            assert value.encode() not in data, f"{value!r} in {path}"
            assert value.encode("utf-16-le") not in data, f"{value!r} in {path}"


def test_only_transient_errors_are_retried(prefect_harness, config, monkeypatch):
    from prefect import flow

    from dataward.errors import ConfigError, LockedError
    from dataward.flows import scan as scan_flow
    from dataward.pipelines import scan as scan_pipeline

    real = scan_pipeline.run_scan
    calls: list[str] = []

    def flaky(settings, **kw):
        calls.append("call")
        if len(calls) == 1:
            raise LockedError("the ledger is busy (another dataward run?)")
        return real(settings, **kw)

    monkeypatch.setattr(scan_pipeline, "run_scan", flaky)
    fast = scan_flow.scan_task.with_options(retry_delay_seconds=0)

    @flow(persist_result=False)
    def one_scan() -> dict:
        return fast.submit(config, True).result()

    assert one_scan()["items"] == 8 and len(calls) == 2

    calls.clear()

    def broken(settings, **kw):
        calls.append("call")
        raise ConfigError("nothing to scan: the config has no sources")

    monkeypatch.setattr(scan_pipeline, "run_scan", broken)
    state = one_scan(return_state=True)
    assert state.is_failed() and len(calls) == 1


def test_flows_register_on_a_trust_work_pool(prefect_harness, config, cli):
    """`dataward serve --work-pool` puts every flow on the pool, on its schedule, loaded by
    module path so any worker with dataward installed can run it."""
    import httpx
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import PREFECT_API_URL

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="schools", type="process"), overwrite=True)
    r = cli("--config", config, "serve", "--work-pool", "schools", "--task-runner", "dask",
            "--dask-address", "tcp://dask.trust.internal:8786")
    assert r.exit_code == 0, r.output
    deps = httpx.post(f"{PREFECT_API_URL.value()}/deployments/filter",
                      json={"limit": 50, "offset": 0,
                            "work_pools": {"name": {"any_": ["schools"]}}}).json()
    by_name = {d["name"]: d for d in deps}
    assert set(by_name) == {"nightly_scan", "nightly_backup", "weekly_verify", "weekly_prune",
                            "weekly_retention", "termly_restore_test", "weekly_accounts"}
    scan = by_name["nightly_scan"]
    assert scan["entrypoint"] == "dataward.flows.scan.nightly_scan"
    assert scan["parameters"] == {"config": config, "task_runner": "dask",
                                  "dask_address": "tcp://dask.trust.internal:8786"}
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in scan["schedules"]] == [
        ("0 1 * * *", "Europe/London")]
