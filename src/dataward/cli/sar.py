"""`dataward sar`: subject access requests, from receipt to an encrypted export."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import UsageError
from ..home import open_ledger
from .common import console, get_settings, out

sar_app = typer.Typer(
    help="Subject access requests: record one and its legal due date, find the person's "
         "data, export it encrypted with an index of what to redact.", no_args_is_help=True)


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


@sar_app.command("open")
def open_(
    ctx: typer.Context,
    received: Annotated[str, typer.Option(help="The day the request was received (YYYY-MM-DD).")],
    by: Annotated[str, typer.Option("--by", help="Full name of the person recording it.")],
    name: Annotated[str | None, typer.Option(help="The person's full name.")] = None,
    upn: Annotated[str | None, typer.Option(help="Unique Pupil Number.")] = None,
    dob: Annotated[str | None, typer.Option(help="Date of birth.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    nhs: Annotated[str | None, typer.Option(help="NHS number.")] = None,
    uln: Annotated[str | None, typer.Option(help="Unique Learner Number.")] = None,
    nino: Annotated[str | None, typer.Option(help="National Insurance number.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    postcode: Annotated[str | None, typer.Option(help="Postcode.")] = None,
    due: Annotated[str | None, typer.Option(help="Override the due date (a bank holiday).")] = None,
) -> None:
    """Record a subject access request; its due date is one calendar month after receipt
    (the ICO's rule; a weekend moves it to the Monday). The values are kept only as
    fingerprints; give every one you know, as the export's index lists any other value in
    the person's files as someone else's data.

    Example: dataward sar open --name "Amelia Khan" --upn U820200014013 --received 2026-09-03 --by "Ann Smith (DPO)"
    """
    from ..pipelines.subject import SubjectQuery
    from ..sar.requests import open_request
    s = get_settings(ctx)
    query = SubjectQuery(name=name, upn=upn, dob=dob, email=email, nhs=nhs, uln=uln, nino=nino,
                         phone=phone, postcode=postcode)
    with open_ledger(s) as ledger:
        req, warnings = open_request(s, ledger, query, received=_date(received, "--received"),
                                     by=by, due=_date(due, "--due") if due else None)
    for w in warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}")
    left = req.days_left()
    out.print(f"request {req.sar_id} for {req.subject}: received {req.received}, due {req.due} "
              + (f"({left} days left)" if left >= 0 else f"(OVERDUE by {-left} days)"))


@sar_app.command("list")
def list_(
    ctx: typer.Context,
    all_requests: Annotated[bool, typer.Option("--all", help="Closed requests too.")] = False,
) -> None:
    """Open subject access requests, soonest due first, with the days left.

    Example: dataward sar list
    """
    from rich.table import Table

    from ..sar.requests import list_requests
    with open_ledger(get_settings(ctx)) as ledger:
        reqs = list_requests(ledger, all_requests=all_requests)
    t = Table("request", "subject", "received", "due", "days left", "status", "package")
    for r in reqs:
        left = r.days_left()
        t.add_row(r.sar_id, r.subject, r.received, r.due,
                  f"{left}" if left >= 0 else f"OVERDUE by {-left}", r.status, r.package_id or "")
    out.print(t)


@sar_app.command("find")
def find(ctx: typer.Context, sar_id: Annotated[str, typer.Argument(help="The request id.")]) -> None:
    """List every item of the latest scan holding the person's data: files, and messages
    inside mailboxes (the mailbox's path and which message) or members of archives.

    Example: dataward sar find sar-1a2b3c4d
    """
    from ..home import fingerprint_key
    from ..pipelines.report_data import ENTITY_LABELS
    from ..pipelines.report_paths import item_id
    from ..pipelines.scan import top_locator
    from ..sar.members import inside
    from ..sar.requests import find_request
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        found = find_request(ledger, sar_id)
    key = fingerprint_key(s)
    out.print(f"request {sar_id}: {len(found.hits)} item(s) in scan {found.scan_id}")
    for h in found.hits:
        rest = h.locator[len(top_locator(h.locator)):]
        path = h.path[:-len(rest)] if rest and h.path.endswith(rest) else h.path
        where = f"  [{escape(inside(h.locator))}]" if rest else ""
        counts = ", ".join(f"{ENTITY_LABELS.get(e, e)} {n}" for e, n in sorted(h.counts.items()))
        # One line an item (never wrapped), so a path can be copied whole.
        out.print(f"  {item_id(key, h.locator)}  {escape(path)}{where}  ({h.audience}): {counts}",
                  soft_wrap=True)


@sar_app.command("export")
def export(
    ctx: typer.Context,
    sar_id: Annotated[str, typer.Argument(help="The request id.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the package to.")] = Path("."),
) -> None:
    """Package the person's files (AES-256, a passphrase shown once) with SAR-index.csv:
    per file, the other people's data it also holds (masked), to redact before disclosure.
    A message in a mailbox is taken out of it as one .eml file (never the whole mailbox).

    Example: dataward sar export sar-1a2b3c4d --out ~/Outbox
    """
    from rich.panel import Panel

    from ..sar.export import export_request
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        res = export_request(s, ledger, sar_id, out_dir=out_dir)
    out.print(f"package: {res.package.path}")
    out.print(f"files: {res.files}, messages and members taken out of mailboxes or archives: "
              f"{res.messages}, index rows: {res.index_rows} (SAR-index.csv inside)")
    if res.left_out:
        console.print(f"[yellow]warning:[/] {res.left_out} item(s) found by the scan are not in "
                      "the package (moved or changed since the scan; listed in SAR-index.csv): "
                      "run `dataward scan`, then export again")
    if res.package.generated_password:
        console.print(Panel(f"[bold]{res.package.generated_password}[/]", title="passphrase",
                            expand=False))
        console.print("It is not stored anywhere: dataward cannot show it again.")


@sar_app.command("close")
def close(
    ctx: typer.Context,
    sar_id: Annotated[str, typer.Argument(help="The request id.")],
    by: Annotated[str, typer.Option("--by", help="Full name of the person closing it.")],
) -> None:
    """Close a request once it has been answered.

    Example: dataward sar close sar-1a2b3c4d --by "Ann Smith (DPO)"
    """
    from ..sar.requests import close_request
    with open_ledger(get_settings(ctx)) as ledger:
        close_request(ledger, sar_id, by=by)
    out.print(f"request {sar_id} closed")


def register(app: typer.Typer) -> None:
    app.add_typer(sar_app, name="sar")
