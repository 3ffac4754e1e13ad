"""The trust's nightly scan: every school's parts spread over a Dask cluster.

A thin flow around ``dataward.trust``. Each school is prepared once (folder, key, ledger
schema), then the parts of all schools, interleaved across schools so one large school's
parts do not queue ahead of the others, are grouped into batches (``trust.parts.batches``:
large first, single parts last) and each batch is a task on the cluster. A batch's task is
retried when its worker dies; a part whose scan raised, or whose batch was lost for good
(the cluster gone), is scanned again on its own in a later round; a part that still fails
is named in the result and the others complete. The worker that scans a part writes its
rows into the trust's dataset, so the flow waits for no writing at the end. Tasks return
only counts and ids, and never persist results (Prefect pickles persisted results in
clear).

Start the cluster as an operator would (``dask scheduler``; on each worker machine
``DASK_DISTRIBUTED__WORKER__DAEMON=False dask worker tcp://scheduler:8786 --nthreads 1
--preload dataward.flows.trust_worker``, one per core: a scan reads items in child
processes, which daemon processes may not have; the preload loads the scan stack once;
give the scheduler the same ``--preload``: it unpickles each task, so it imports Prefect).
"""
from __future__ import annotations

import time
from dataclasses import asdict
from itertools import pairwise, zip_longest
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from ..errors import is_transient
from .common import retry_if_transient

if TYPE_CHECKING:
    from ..trust.outcome import PartSummary
    from ..trust.parts import Part


def _trust(path: str) -> Any:
    from ..trust.config import load_trust
    return load_trust(path)


@task(name="trust-prepare-schools", persist_result=False, cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=5, retry_condition_fn=retry_if_transient)
def prepare_task(trust_path: str, school_ids: list[str]) -> tuple[list[list[Part]],
                                                                  dict[str, str]]:
    """Some schools prepared in one task (a task per school cost more in Prefect's
    bookkeeping than the work): each school's parts, and why for a school that could not
    be prepared."""
    from ..trust.scan import prepare_school
    trust = _trust(trust_path)
    parts: list[list[Part]] = []
    failed: dict[str, str] = {}
    for school_id in school_ids:
        try:
            parts.append(prepare_school(trust, school_id))
        except Exception as exc:   # that school is named, the others go on
            if is_transient(exc):
                raise                 # preparing is idempotent: the whole task is retried
            failed[school_id] = type(exc).__name__
    return parts, failed


@task(name="trust-scan-parts", persist_result=False, cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=2)
def scan_parts_task(trust_path: str, parts: list[Part]) -> tuple[list[PartSummary],
                                                                 dict[str, str]]:
    """Scan a batch of parts; returns the scanned parts' summaries and, for the parts whose
    scan raised, why (by ``school_id/part``). A killed worker is a lost attempt of the
    whole batch: Dask runs it again elsewhere, and the parts it had finished are
    scanned again incrementally (everything reused, counted once)."""
    from ..trust.scan import scan_parts
    done, failed = scan_parts(_trust(trust_path), parts)
    return done, {f"{p.school_id}/{p.name}": type(exc).__name__ for p, exc in failed}


def interleave(parts_by_school: list[list[Part]]) -> list[Part]:
    """First part of every school, then the second of every school, and so on."""
    return [p for row in zip_longest(*parts_by_school) for p in row if p is not None]


# Rounds in all: a part that failed in one (its scan raised, or its batch was lost with
# a worker or the cluster) is scanned again, alone, in the next.
ROUNDS = 3


def _slots() -> int:
    """Threads on the cluster the flow's task runner is connected to."""
    context = FlowRunContext.get()
    client = getattr(context.task_runner, "client", None) if context else None
    if client is None:
        return 1
    return max(1, sum(client.nthreads().values()))


def _run(trust_path: str) -> dict[str, Any]:
    from ..trust.outcome import by_school
    from ..trust.parts import batches
    from ..trust.results import written
    trust = _trust(trust_path)
    clock = [time.perf_counter()]
    # The schools shared out among the cluster's threads, prepared side by side.
    ids, slots = [s.id for s in trust.schools], _slots()
    prepared = [prepare_task.submit(trust_path, ids[k::slots]) for k in range(slots)
                if ids[k::slots]]
    parts_by_school: list[list[Part]] = []
    failed: dict[tuple[str, str], str] = {}
    for ready in prepared:
        parts, unprepared = ready.result()
        parts_by_school += parts
        failed.update({(school_id, "*"): why for school_id, why in unprepared.items()})
    clock.append(time.perf_counter())
    todo = interleave(parts_by_school)
    done: list[PartSummary] = []
    for round_no in range(ROUNDS):
        if not todo:
            break
        groups = batches(todo, slots) if round_no == 0 else [[p] for p in todo]
        futures = [(group, scan_parts_task.submit(trust_path, group)) for group in groups]
        todo = []
        for group, fut in futures:
            fut.wait()
            if fut.state.is_completed():
                scanned, errors = fut.result()
                done.extend(scanned)
                retry = [p for p in group if f"{p.school_id}/{p.name}" in errors]
                for p in retry:
                    failed[(p.school_id, p.name)] = errors[f"{p.school_id}/{p.name}"]
            else:
                retry = group
                for p in group:
                    failed[(p.school_id, p.name)] = _why(fut.state)
            todo += retry
        for summary in done:
            failed.pop((summary.school_id, summary.part), None)
    clock.append(time.perf_counter())
    schools = by_school(trust, done, failed)
    phases = dict(zip(("prepare", "scan"),
                      (round(b - a, 2) for a, b in pairwise(clock)), strict=True))
    return {"parts": [asdict(p) for p in done], "schools": [asdict(s) for s in schools],
            "dataset": asdict(written(trust, done)), "seconds": phases}


def _why(state: Any) -> str:
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - the part's failure, said in the report
        return type(exc).__name__
    return state.name or "failed"


@flow(name="trust-scan", persist_result=False, log_prints=False)
def trust_scan_flow(trust_path: str) -> dict[str, Any]:
    """Scan every school of the trust on the flow's task runner (a Dask cluster), each
    part written into the trust's Parquet dataset by the worker that scanned it; an
    artifact of counts for the UI."""
    out = _run(trust_path)
    lines = ["## Trust scan", "", "| school | status | parts | items | findings | not read |",
             "|---|---|---|---|---|---|"]
    for s in out["schools"]:
        missing = ", ".join(sorted({**s["unavailable"], **s["failed"]})) or "-"
        lines.append(f"| {s['school_id']} | {s['status']} | {s['parts']} | {s['items']} | "
                     f"{s['findings']} | {missing} |")
    create_markdown_artifact(key="trust-scan", markdown="\n".join(lines),
                             description="Trust scan: counts only")
    logger = get_run_logger()
    logger.info("trust scan: %d parts scanned, %d schools",
                len(out["parts"]), len(out["schools"]))
    cold = {p["worker"] for p in out["parts"] if not p["preloaded"]}
    if cold:
        logger.warning("%d Dask workers ran without the preload: each paid for loading the "
                       "scan stack on its first part (start them with --preload "
                       "dataward.flows.trust_worker, docs/trust.md)", len(cold))
    return out


def trust_scan(trust_path: str, dask_address: str | None = None,
               dask_workers: int = 2) -> dict[str, Any]:
    """Run the ``trust-scan`` flow on the Dask cluster at ``dask_address`` (or a local one
    of ``dask_workers`` processes, started with the same preload as a real cluster's,
    ``flows.trust_worker``). One flow run, its task runner chosen here (a subflow for the
    runner cost a second flow run's bookkeeping each night)."""
    from .scan import make_task_runner
    runner = make_task_runner("dask", workers=dask_workers, address=dask_address,
                              preload=["dataward.flows.trust_worker"])
    return trust_scan_flow.with_options(task_runner=runner)(trust_path)
