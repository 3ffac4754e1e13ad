"""The nightly scan flow: scan every configured source, write the DPO report, and leave a
table and a Markdown artifact in the Prefect UI.

Thin wrappers around ``pipelines.scan`` and ``pipelines.report``. Tasks never persist
results (Prefect pickles persisted results in clear under PREFECT_HOME) and return only
counts, ids and the paths of dataward's own outputs. A transient error (a locked ledger,
a busy share) is retried; anything else fails the run at once.

``task_runner="dask"`` runs the tasks on a local Dask cluster through prefect-dask; a
trust points ``dask_address`` at its own Dask scheduler instead.
"""
from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from .common import load as _settings
from .common import retry_if_transient as _retry_if_transient


@task(name="scan", persist_result=False, cache_policy=NO_CACHE, retries=2, retry_delay_seconds=60,
      retry_condition_fn=_retry_if_transient)
def scan_task(config: str | None, full: bool = False) -> dict[str, Any]:
    """Scan the configured sources; return the scan's counts."""
    from ..pipelines.scan import run_scan
    result = run_scan(_settings(config), full=full)
    keys = ("scan_id", "status", "items", "items_with_findings", "findings", "errors", "read",
            "reused", "new", "changed", "moved", "removed", "bytes_read", "seconds")
    import os
    import socket
    return {**{k: getattr(result, k) for k in keys}, "by_status": dict(result.by_status),
            "by_entity": dict(result.by_entity), "out_dir": str(result.out_dir),
            "unavailable": dict(result.unavailable), "reasons": list(result.reasons),
            # Which machine and process scanned (a trust's Dask workers are many).
            "worker": f"{socket.gethostname()}:{os.getpid()}"}


@task(name="report", persist_result=False, cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30,
      retry_condition_fn=_retry_if_transient)
def report_task(config: str | None, scan: dict[str, Any]) -> dict[str, Any]:
    """Render the HTML report of the scan ``scan_task`` made; return its path and counts."""
    from ..pipelines.report import write_report
    r = write_report(_settings(config), scan=scan["scan_id"], fmt="html")
    return {"path": str(r.path), "bytes": r.bytes, "headline": dict(r.headline)}


def counts_table(summary: dict[str, Any], report: dict[str, Any]) -> list[dict[str, Any]]:
    h = report["headline"]
    rows = [("items scanned", summary["items"]), ("read this run", summary["read"]),
            ("unchanged (reused)", summary["reused"]),
            ("items with personal data", summary["items_with_findings"]),
            ("findings", summary["findings"]), ("special category", h["special"]),
            ("special category in pupil areas", h["special_pupil"]),
            ("high or critical risk", h["high"]), ("could not be read", h["unreadable"]),
            ("new", summary["new"]), ("changed", summary["changed"]),
            ("moved", summary["moved"]), ("removed", summary["removed"])]
    return [{"figure": k, "count": int(v)} for k, v in rows]


def counts_markdown(summary: dict[str, Any], report: dict[str, Any]) -> str:
    h = report["headline"]
    lines = [f"## Nightly scan `{summary['scan_id']}`: {summary['status']}", "",
             f"**{summary['items_with_findings']}** of {summary['items']} items hold personal data "
             f"({summary['findings']} findings); **{h['special_pupil']}** special-category items "
             f"where pupils can open them; **{h['high']}** high or critical; "
             f"{h['unreadable']} could not be read.", "",
             f"Since the previous scan: {summary['new']} new, {summary['changed']} changed, "
             f"{summary['moved']} moved, {summary['removed']} removed.", "",
             *[line for name, why in sorted(summary.get("unavailable", {}).items())
               for line in ((f"**Source {name} could not be read**: {why}; its last "
                             f"results are kept."), "")],
             "| entity type | findings |", "|---|---|"]
    lines += [f"| {e} | {n} |" for e, n in sorted(summary["by_entity"].items())]
    lines += ["", f"Report: `{report['path']}` ({report['bytes'] / 1024:.0f} KiB)."]
    return "\n".join(lines)


def make_task_runner(kind: str, *, workers: int = 2, address: str | None = None,
                     preload: list[str] | None = None) -> Any:
    """``thread`` (Prefect's default) or ``dask`` (prefect-dask: a local cluster of
    ``workers`` processes, or the scheduler at ``address``). ``preload``: modules a local
    cluster's scheduler and workers load as they start (``--preload`` of a real one)."""
    if kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner
        return ThreadPoolTaskRunner()
    if kind == "dask":
        import dask
        from prefect_dask import DaskTaskRunner

        # The scan reads items in child processes of its own (time and memory limits), and
        # daemonic processes may not have children: Dask's workers must not be daemons.
        dask.config.set({"distributed.worker.daemon": False})
        if address:
            return DaskTaskRunner(address=address)
        extra: dict[str, Any] = {"preload": preload,
                                 "scheduler_kwargs": {"preload": preload}} if preload else {}
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None,
                                              **extra})
    from ..errors import UsageError
    raise UsageError(f"unknown task runner {kind!r}; choose thread or dask")


def _scan_then_report(config: str | None, full: bool) -> dict[str, Any]:
    scanned = scan_task.submit(config, full)
    # Passing the future (not its value) lets Dask run the report where the scan ran, on
    # a worker that has already imported what both need.
    report = report_task.submit(config, scanned).result()  # type: ignore[call-overload]  # Prefect resolves a future argument; its types take values only
    return {"scan": scanned.result(), "report": report}


@flow(name="nightly-scan-tasks", persist_result=False, log_prints=False)
def scan_and_report(config: str | None = None, full: bool = False) -> dict[str, Any]:
    """The scan and report tasks, as a subflow run on another task runner (Dask)."""
    return _scan_then_report(config, full)


@flow(name="nightly-scan", persist_result=False, log_prints=False)
def nightly_scan(config: str | None = None, full: bool = False, task_runner: str = "thread",
                 dask_workers: int = 2, dask_address: str | None = None) -> dict[str, Any]:
    """Scan every configured source, write the DPO report, publish counts as artifacts.

    ``task_runner="dask"`` runs the tasks on a local Dask cluster of ``dask_workers``
    processes (or on the scheduler at ``dask_address``) through prefect-dask.
    """
    log = get_run_logger()
    if task_runner == "thread":
        done = _scan_then_report(config, full)
    else:
        runner = make_task_runner(task_runner, workers=dask_workers, address=dask_address)
        done = scan_and_report.with_options(task_runner=runner)(config, full)
    summary, report = done["scan"], done["report"]
    create_table_artifact(key="nightly-scan-counts", table=counts_table(summary, report),
                          description="Nightly scan: counts only")
    create_markdown_artifact(key="nightly-scan", markdown=counts_markdown(summary, report),
                             description="Nightly scan summary: counts only")
    log.info("scan %s %s: %d items, %d with personal data, %d errors",
             summary["scan_id"], summary["status"], summary["items"],
             summary["items_with_findings"], summary["errors"])
    return done
