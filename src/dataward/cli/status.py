"""`dataward status`: when each scheduled job last ran, and what is overdue."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Optional

import typer

from ..home import open_ledger
from .common import get_settings, out


def status(
    ctx: typer.Context,
    grace_hours: Annotated[float, typer.Option(
        help="How long after its scheduled time a job may take before it counts as overdue.",
        min=0)] = 6.0,
    prefect_api: Annotated[Optional[str], typer.Option(
        "--prefect-api", envvar="PREFECT_API_URL",
        help="Also show each flow's latest Prefect run from this API "
             "(e.g. http://127.0.0.1:4200/api while `dataward serve` runs).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show when each scheduled job (nightly scan, backup, weekly verify, weekly retention,
    termly restore test) last did its work, its schedule, and whether it is overdue.

    The times come from the ledger, so a job run by hand counts too. Exits 3 when any job
    is overdue, so a monitoring check can call it.

    Examples:
      dataward status
      dataward status --json --prefect-api http://127.0.0.1:4200/api
    """
    from ..errors import PartialError
    from ..pipelines.status import job_status
    settings = get_settings(ctx, required=True)
    with open_ledger(settings) as ledger:
        jobs = job_status(settings, ledger, grace=timedelta(hours=grace_hours),
                          prefect_api=prefect_api)
    late = [j.flow for j in jobs if j.overdue]
    if as_json:
        out.print(json.dumps({"jobs": [j.as_dict() for j in jobs], "overdue": late}, indent=2))
    else:
        from rich.table import Table
        t = Table("job", "schedule", "last ran (UTC)", "state")
        if prefect_api:
            t.add_column("latest Prefect run")
        for j in jobs:
            state = ("OVERDUE (due " + (j.due_since or "")[:16].replace("T", " ") + ")"
                     if j.overdue else "ok")
            row = [j.flow, j.schedule,
                   j.last_run[:19].replace("T", " ") if j.last_run else "never", state]
            if prefect_api:
                row.append(f"{j.prefect_state} {(j.prefect_time or '')[:19]}"
                           if j.prefect_state else "none")
            t.add_row(*row)
        out.print(t)
    if late:
        raise PartialError(f"overdue: {', '.join(late)}",
                           hint="see `dataward serve`'s output and <state folder>/prefect/server.log")


def register(app: typer.Typer) -> None:
    app.command("status")(status)
