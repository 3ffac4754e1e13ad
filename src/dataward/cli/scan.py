"""`dataward scan` (configured sources or ad-hoc paths) and `dataward scans` (history)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..home import open_ledger
from .common import console, get_settings, out, progress


def scan(
    ctx: typer.Context,
    paths: Annotated[Optional[list[Path]], typer.Argument(
        help="Folders or files to scan ad hoc, with no config file. "
             "Without PATHS, every source in the config is scanned.")] = None,
    roster: Annotated[Optional[list[Path]], typer.Option(
        "--roster", "-r", help="MIS names export (CSV) to find names from; repeatable.")] = None,
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Write items.parquet and findings.parquet straight into this folder.")] = None,
    source: Annotated[Optional[list[str]], typer.Option(
        "--source", "-s", help="Scan only the configured source with this name; repeatable.")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Read every file again, even those unchanged since the last scan.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    workers: Annotated[Optional[int], typer.Option(
        "--workers", "-w", min=1,
        help="Worker processes reading items (default: scan.workers, else one per core).")] = None,
    accept_removals: Annotated[bool, typer.Option(
        "--accept-removals",
        help="A source that suddenly holds almost no files really was emptied: count its "
             "files as removed instead of keeping its last results.")] = False,
) -> None:
    """Find personal data in shared drives and write the scan's Parquet files.

    Examples:
      dataward scan               # all configured sources, incremental
      dataward scan --full        # read every file again
      dataward scan /srv/shares/staff --roster pupils.csv --out ./scan-out
      dataward scan --workers 2   # two worker processes
      dataward scan --source pupils --accept-removals  # the share really was emptied

    A source that cannot be read (missing, not a folder, not mounted, suddenly almost
    empty) keeps its last results and the scan exits 3. Ad hoc scans (PATHS) never
    become the latest scan that `dataward report` and `subject find` read.

    Exit codes: 0 every item read, 3 finished but some items or sources could not be read.
    """
    from ..errors import ConfigError, PartialError
    from ..pipelines.scan import ScanProgress, adhoc_sources, run_scan

    settings = get_settings(ctx)
    if workers:
        settings.scan.workers = workers
    adhoc = bool(paths)
    if paths:
        sources = adhoc_sources(list(paths))
    else:
        sources = settings.sources
        if source:
            unknown = sorted(set(source) - {s.name for s in sources})
            if unknown:
                raise ConfigError(f"no source named {', '.join(unknown)} in the config")
            sources = [s for s in sources if s.name in source]

    bar = progress()
    task = bar.add_task("walking", total=None)
    import time
    started = time.perf_counter()

    def on_progress(p: ScanProgress) -> None:
        if p.phase == "walking":
            bar.update(task, description=f"walking ({p.done} found)")
        else:
            elapsed = max(1e-6, time.perf_counter() - started)
            bar.update(task, total=p.total, completed=p.done,
                       description=f"reading {p.done / elapsed:,.0f} items/s "
                                   f"{p.bytes_done / 1e6 / elapsed:,.1f} MB/s")

    with open_ledger(settings) as ledger, bar:
        result = run_scan(settings, sources=sources, rosters=roster, full=full, out_dir=out_dir,
                          progress=on_progress, ledger=ledger, adhoc=adhoc,
                          accept_removals=accept_removals)
    if as_json:
        out.print_json(json.dumps(result.summary()))
    else:
        mb = result.bytes_read / 1e6
        out.print(f"scan {result.scan_id}: {result.status}")
        kept = f", {result.kept} kept from sources not read" if result.kept else ""
        out.print(f"  items: {result.items} ({result.read} read, {result.reused} unchanged and "
                  f"reused{kept})")
        out.print(f"  changes: {result.new} new, {result.changed} changed, {result.moved} moved, "
                  f"{result.removed} removed")
        out.print(f"  with personal data: {result.items_with_findings} items, {result.findings} findings")
        out.print("  statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(result.by_status.items())))
        out.print(f"  read {mb:,.1f} MB in {result.seconds:.1f} s")
        for reason in result.reasons:
            out.print(f"  {reason}")
        out.print(f"  results: {result.out_dir}/items.parquet, findings.parquet")
    for name, why in sorted(result.unavailable.items()):
        console.print(f"[yellow]source {name} could not be read: {why}; its last results "
                      f"are kept[/]")
    if result.errors:
        console.print(f"[yellow]{result.errors} items could not be read; see the `error` column[/]")
    if result.status == "partial":
        raise typer.Exit(PartialError.exit_code)


def scans(
    ctx: typer.Context,
    last: Annotated[int, typer.Option(help="How many of the newest scans.")] = 10,
) -> None:
    """List recent scans with their status, counts, and why each read what it did.

    Example: dataward scans --last 5
    """
    from rich.table import Table
    with open_ledger(get_settings(ctx)) as ledger:
        rows = ledger.scan_rows()[:last]
    t = Table("scan id", "started (UTC)", "mode", "status", "items", "with data", "findings",
              "errors")
    for col in t.columns:
        col.no_wrap = True
    why: list[str] = []
    for r in rows:
        t.add_row(r.scan_id, r.started[:16], r.mode, r.status, str(r.items or 0),
                  str(r.items_with_findings or 0), str(r.findings or 0), str(r.errors or 0))
        why += [f"  {r.scan_id}  {reason}" for reason in json.loads(r.summary or "{}").get("reasons") or []]
    out.print(t)
    if why:
        out.print("Why each scan read what it did:")
        for line in why:
            out.print(line)


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("scans")(scans)
