"""`dataward trust scan`: every school of a trust, on a Dask cluster."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import out

trust_app = typer.Typer(help="A multi-academy trust: many schools, one ledger, one cluster.",
                        no_args_is_help=True)


@trust_app.command("scan")
def trust_scan(
    trust_file: Annotated[Path, typer.Argument(help="The trust file (schools, ledger, results).")],
    dask_address: Annotated[str | None, typer.Option(
        "--dask-address", help="The Dask scheduler, e.g. tcp://10.0.0.5:8786; default: a local cluster.")] = None,
    workers: Annotated[int, typer.Option(help="Local cluster size when no --dask-address.")] = 2,
) -> None:
    """Scan every school's parts on the Dask cluster and write the trust's Parquet dataset.

    Runs the `trust-scan` Prefect flow (set PREFECT_API_URL to use a Prefect server).

    Example: dataward trust scan trust.yaml --dask-address tcp://127.0.0.1:8786
    """
    from ..flows.trust import trust_scan as flow
    from ..trust.config import load_trust
    load_trust(trust_file)                      # config errors before the cluster starts
    result = flow(str(trust_file.resolve()), dask_address=dask_address, dask_workers=workers)
    for s in result["schools"]:
        missing = sorted({**s["unavailable"], **s["failed"]})
        out.print(f"{s['school_id']}: {s['status']}, {s['items']} items, {s['findings']} findings"
                  + (f"; not read: {', '.join(missing)}" if missing else ""))
    out.print(f"dataset: {result['dataset']['root']} ({result['dataset']['items']} items)")


def register(app: typer.Typer) -> None:
    app.add_typer(trust_app, name="trust")
