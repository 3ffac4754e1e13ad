"""`dataward report` (the DPO exposure report), `dataward show` (an item's full path, audited)
and `dataward subject find` (subject access search by fingerprint)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..home import open_ledger
from .common import console, get_settings, out

subject_app = typer.Typer(help="Subject access requests: where does one person's data appear?",
                          no_args_is_help=True)


def report(
    ctx: typer.Context,
    scan: Annotated[str, typer.Option("--scan", help="Scan id, or `latest`.")] = "latest",
    fmt: Annotated[str, typer.Option("--format", "-f",
                                     help="html (one self-contained page), md or csv.")] = "html",
    out_path: Annotated[Path | None, typer.Option(
        "--out", "-o", help="File (or folder) to write; default: the state folder's reports/.")] = None,
    trust: Annotated[Path | None, typer.Option(
        "--trust", help="A trust file: one page with every school side by side (--out: a folder).")] = None,
) -> None:
    """Write the DPO's personal-data exposure report for a scan.

    Made from the scan's Parquet files: counts, locators and masked previews only.

    Examples:
      dataward report                                  # latest scan, HTML
      dataward report --scan 20261002T010000Z-1a2b3c --format md --out report.md
      dataward report --format csv --out exposure.csv  # every item
      dataward report --trust trust.yaml --out trust-report/   # the trust DPO's page
    """
    if trust is not None:
        from ..trust.config import load_trust
        from ..trust.report import write_trust_report
        written = write_trust_report(load_trust(trust), out_path)
        out.print(f"trust report: {written.path} ({len(written.schools)} schools)")
        for s in written.schools:
            missing = f"; not read: {', '.join(sorted(s.not_read))}" if s.not_read else ""
            out.print(f"  {s.school_id}: {s.with_personal_data} of {s.items} items hold personal "
                      f"data; {s.special_pupil} special category in pupil areas{missing}")
        return
    from ..pipelines.report import write_report
    settings = get_settings(ctx)
    with open_ledger(settings) as ledger:
        result = write_report(settings, scan=scan, fmt=fmt.lower(), out=out_path, ledger=ledger)
    h = result.headline
    out.print(f"report of scan {result.scan_id}: {result.path}")
    out.print(f"  {h['with_data']} of {h['items']} items hold personal data; {h['special']} special "
              f"category ({h['special_pupil']} where pupils can open them); {h['high']} high or "
              f"critical; {h['unreadable']} could not be read")


def show(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="The item id from the report's item column.")],
    scan: Annotated[str, typer.Option("--scan", help="Scan id, or `latest` (newest scan holding it).")] = "latest",
) -> None:
    """Print the full path of one item of the report (the report masks names in paths).

    Run on the server by someone allowed to see it: every look-up is in the audit log.

    Example: dataward show 3f9a0c1d2e4b
    """
    from ..pipelines.report_show import find_item
    settings = get_settings(ctx)
    with open_ledger(settings) as ledger:
        found = find_item(settings, ledger, item, scan=scan)
    out.print(f"item {found.item_id} (scan {found.scan_id}, source {found.source}, "
              f"audience {found.audience}, risk {found.risk_level})", markup=False)
    out.print(f"path: {found.path}", markup=False)
    out.print(f"locator: {found.locator}", markup=False)


@subject_app.command("find")
def subject_find(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Full name, as 'Forename Surname' or 'Surname, Forename'.")] = None,
    dob: Annotated[str | None, typer.Option(help="Date of birth (DD/MM/YYYY or YYYY-MM-DD).")] = None,
    upn: Annotated[str | None, typer.Option(help="Unique Pupil Number.")] = None,
    nhs: Annotated[str | None, typer.Option(help="NHS number (spaces allowed).")] = None,
    uln: Annotated[str | None, typer.Option(help="Unique Learner Number.")] = None,
    nino: Annotated[str | None, typer.Option(help="National Insurance number.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    postcode: Annotated[str | None, typer.Option(help="Postcode.")] = None,
    scan: Annotated[str, typer.Option("--scan", help="Scan id, or `latest`.")] = "latest",
    all_scans: Annotated[bool, typer.Option("--all-scans", help="Search every scan, not one.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the items as JSON.")] = False,
) -> None:
    """List every item where any of the given values occurs, with entity types and counts.

    The values are fingerprinted with the school's key and matched against the scans'
    fingerprints; they are never written, logged or stored.

    Example: dataward subject find --name "Amelia Khan" --upn U820200014013 --nhs "943 476 5919"
    """
    from rich.table import Table

    from ..pipelines.report_data import ENTITY_LABELS
    from ..pipelines.subject import SubjectQuery, find_subject
    settings = get_settings(ctx)
    query = SubjectQuery(name=name, dob=dob, upn=upn, uln=uln, nhs=nhs, nino=nino, email=email,
                         phone=phone, postcode=postcode)
    with open_ledger(settings) as ledger:
        result = find_subject(settings, query, scan=scan, all_scans=all_scans, ledger=ledger)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(str(w))}")
    if as_json:
        out.print_json(json.dumps([{"scan_id": h.scan_id, "locator": h.locator, "path": h.path,
                                    "source": h.source, "audience": h.audience,
                                    "counts": h.counts} for h in result.hits]))
        return
    scans = ", ".join(result.scans) if len(result.scans) <= 3 else f"{len(result.scans)} scans"
    out.print(f"searched {', '.join(result.searched)} in {scans}: "
              f"{len({h.locator for h in result.hits})} items")
    if not result.hits:
        return
    t = Table("locator", "audience", "found", *(["scan"] if all_scans else []))
    for h in result.hits:
        found = ", ".join(f"{ENTITY_LABELS.get(e, e)} {n}" for e, n in sorted(h.counts.items()))
        t.add_row(h.locator, h.audience, found, *([h.scan_id] if all_scans else []))
    out.print(t)


def demo_hook(ctx: typer.Context, settings) -> None:
    """`dataward demo` ends with the report of the scan it made."""
    from ..pipelines.report import write_report
    result = write_report(settings)
    out.print(f"DPO report: {result.path}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("show")(show)
    app.add_typer(subject_app, name="subject")
    from .demo import demo_hooks
    if demo_hook not in demo_hooks:
        demo_hooks.append(demo_hook)
