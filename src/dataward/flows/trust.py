"""The trust's nightly scan: every school's parts spread over a Dask cluster.

A thin flow around ``dataward.trust``. Each school is prepared once (folder, key, ledger
schema), then every part of every school is a task on the cluster; parts are submitted
interleaved across schools, so one large school's parts do not queue ahead of the others.
A part's task is retried (its worker killed, a busy ledger): a worker that dies mid-part
loses only that part's uncommitted work, and the new attempt scans it again. A part that
still fails is named in the result and the others complete. Tasks return only counts and
ids, and never persist results (Prefect pickles persisted results in clear).

Start the cluster as an operator would (``dask scheduler``; on each worker machine
``DASK_DISTRIBUTED__WORKER__DAEMON=False dask worker tcp://scheduler:8786 --nthreads 1``,
one per core: a scan reads items in child processes, which daemon processes may not have).
"""
from __future__ import annotations

from dataclasses import asdict
from itertools import zip_longest
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from .common import retry_if_transient


def _trust(path: str) -> Any:
    from ..trust.config import load_trust
    return load_trust(path)


@task(name="trust-prepare-school", persist_result=False, cache_policy=None, retries=2,
      retry_delay_seconds=5, retry_condition_fn=retry_if_transient)
def prepare_task(trust_path: str, school_id: str) -> list[Any]:
    from ..trust.scan import prepare_school
    return prepare_school(_trust(trust_path), school_id)


@task(name="trust-scan-part", persist_result=False, cache_policy=None, retries=2,
      retry_delay_seconds=2)
def scan_part_task(trust_path: str, part: Any) -> Any:
    """Scan one part; any failure is retried (a killed worker is not a transient error
    the part raises, it is a lost attempt)."""
    from ..trust.scan import scan_part
    return scan_part(_trust(trust_path), part)


def interleave(parts_by_school: list[list[Any]]) -> list[Any]:
    """First part of every school, then the second of every school, and so on."""
    return [p for row in zip_longest(*parts_by_school) for p in row if p is not None]


def _run(trust_path: str) -> dict[str, Any]:
    from ..trust.results import write_parts
    from ..trust.scan import by_school
    trust = _trust(trust_path)
    prepared = [prepare_task.submit(trust_path, s.id) for s in trust.schools]
    parts_by_school, failed = [], {}
    for school, fut in zip(trust.schools, prepared):
        state = fut.wait() or fut.state
        if state.is_completed():
            parts_by_school.append(fut.result())
        else:
            failed[(school.id, "*")] = _why(state)
    futures = [(p, scan_part_task.submit(trust_path, p)) for p in interleave(parts_by_school)]
    done = []
    for part, fut in futures:
        fut.wait()
        if fut.state.is_completed():
            done.append(fut.result())
        else:
            failed[(part.school_id, part.name)] = _why(fut.state)
    written = write_parts(trust, done)
    schools = by_school(trust, done, failed)
    return {"parts": [asdict(p) for p in done], "schools": [asdict(s) for s in schools],
            "dataset": asdict(written)}


def _why(state: Any) -> str:
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - the part's failure, said in the report
        return type(exc).__name__
    return state.name or "failed"


@flow(name="trust-scan-tasks", persist_result=False, log_prints=False)
def trust_scan_tasks(trust_path: str) -> dict[str, Any]:
    """The trust scan's tasks, as a subflow run on the Dask task runner."""
    return _run(trust_path)


@flow(name="trust-scan", persist_result=False, log_prints=False)
def trust_scan(trust_path: str, dask_address: str | None = None,
               dask_workers: int = 2) -> dict[str, Any]:
    """Scan every school of the trust on the Dask cluster at ``dask_address`` (or a local
    one of ``dask_workers`` processes); write the trust's Parquet dataset."""
    from .scan import make_task_runner
    runner = make_task_runner("dask", workers=dask_workers, address=dask_address)
    out = trust_scan_tasks.with_options(task_runner=runner)(trust_path)
    lines = ["## Trust scan", "", "| school | status | parts | items | findings | not read |",
             "|---|---|---|---|---|---|"]
    for s in out["schools"]:
        missing = ", ".join(sorted({**s["unavailable"], **s["failed"]})) or "-"
        lines.append(f"| {s['school_id']} | {s['status']} | {s['parts']} | {s['items']} | "
                     f"{s['findings']} | {missing} |")
    create_markdown_artifact(key="trust-scan", markdown="\n".join(lines),
                             description="Trust scan: counts only")
    get_run_logger().info("trust scan: %d parts scanned, %d schools",
                          len(out["parts"]), len(out["schools"]))
    return out
