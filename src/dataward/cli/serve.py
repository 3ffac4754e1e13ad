"""`dataward serve`: run the nightly, weekly and termly flows on their schedules."""
from __future__ import annotations

import signal
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..errors import DatawardError
from .common import console, get_settings, out


def serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port of the local Prefect server and UI.")] = 4200,
    host: Annotated[str, typer.Option(
        help="Address the Prefect server listens on (keep 127.0.0.1 unless behind a proxy).")] = "127.0.0.1",
    task_runner: Annotated[str, typer.Option(
        "--task-runner", help="thread, or dask (prefect-dask) for the scan's tasks.")] = "thread",
    dask_address: Annotated[Optional[str], typer.Option(
        help="Scheduler of an existing Dask cluster (tcp://host:8786); default: a local one.")] = None,
    work_pool: Annotated[Optional[str], typer.Option(
        help="Instead of serving here: register the flows on this work pool of the Prefect "
             "server at PREFECT_API_URL (a trust's server), for its workers to run, and exit.")] = None,
) -> None:
    """Start a local Prefect server (SQLite, under the state folder, no telemetry) and
    serve every dataward flow on the schedules in the config. Stop with Ctrl-C (or
    SIGTERM): the server, the flows and any run under way all stop.

    A line in red says when a part of Prefect keeps failing (its scheduler, the flow
    runner); `dataward status` says when each flow last ran and what is overdue.

    The Prefect UI (runs, the report's counts, retention approvals) is at
    http://127.0.0.1:PORT. To run it as a service, see deploy/dataward.service.

    Examples:
      dataward serve
      dataward --config /etc/dataward/dataward.yaml serve --port 4300
      dataward serve --task-runner dask
      export PREFECT_API_URL=http://prefect.trust.internal:4200/api
      dataward serve --work-pool schools
    """
    from ..errors import UsageError
    from ..flows.serve import Supervisor, available_flows, register_on_pool
    if task_runner not in ("thread", "dask"):
        raise UsageError(f"unknown task runner {task_runner!r}; choose thread or dask")
    settings = get_settings(ctx, required=True)
    if work_pool:
        names = register_on_pool(settings, str(settings.config_path), work_pool,
                                 task_runner=task_runner, dask_address=dask_address)
        out.print(f"registered on work pool {work_pool}: {', '.join(names)}")
        out.print(f"start workers where dataward is installed: prefect worker start --pool {work_pool}")
        return
    served, skipped = available_flows(settings)
    sup = Supervisor(settings, str(settings.config_path), host=host, port=port,
                     task_runner=task_runner, dask_address=dask_address)
    # systemd stops a service with SIGTERM, a closed terminal sends SIGHUP: both are Ctrl-C
    # (SIGINT is set too: a shell starting us in the background would have it ignored).
    previous = {s: signal.signal(s, _as_interrupt)
                for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        out.print(f"starting the Prefect server on {sup.api_url.removesuffix('/api')} "
                  f"(state: {sup.env['PREFECT_HOME']})")
        sup.start()
        for s in served:
            out.print(f"  {s.name}: {s.when}")
        for name in skipped:
            console.print(f"[yellow]not served:[/] {name}")
        out.print("serving; Ctrl-C stops")
        code = sup.wait(alert=lambda line: console.print(f"[red]{escape(line)}[/]"))
        console.print(f"[red]a child process stopped (exit {code}); stopping[/]")
        raise typer.Exit(DatawardError.exit_code)
    except KeyboardInterrupt:
        out.print("stopping...")
    finally:
        sup.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out.print("stopped")


def _as_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
