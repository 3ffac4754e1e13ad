"""`dataward retention`: plan, approve, apply, restore and purge deletions of leavers' images."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import TaskID

from ..home import open_ledger

if TYPE_CHECKING:
    from ..retention.planning import PlanSummary
from .common import console, get_settings, out, progress, parse_as_of

MAX_WARNINGS = 20

app = typer.Typer(help="Delete images of pupils who have left, safely: plan -> approve -> "
                       "apply (quarantine) -> purge after the grace period.",
                  no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="retention")


def _print_summary(s: PlanSummary) -> None:
    out.print(f"plan {s.plan_id}  (as of {s.as_of}, {s.status})")
    out.print(f"  images looked at: {s.images}")
    out.print(f"  due for deletion: {s.due} ({s.due_bytes / 1e6:.1f} MB)")
    for code, n in s.counts.items():
        if code != "due":
            out.print(f"  kept, {code}: {n}")
    warnings = s.warnings
    for w in warnings[:MAX_WARNINGS]:
        console.print(f"[yellow]warning:[/] {escape(w)}")
    if len(warnings) > MAX_WARNINGS:
        console.print(f"[yellow]warning:[/] ... and {len(warnings) - MAX_WARNINGS} more "
                      "(stored with the plan)")


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    leavers: Annotated[Optional[Path], typer.Option(help="MIS leavers export (CSV).")] = None,
    on_roll: Annotated[Optional[Path], typer.Option("--on-roll", help="MIS export of pupils on roll (CSV).")] = None,
    consent: Annotated[Optional[Path], typer.Option(help="Photo consent export (CSV).")] = None,
    images: Annotated[Optional[list[Path]], typer.Option(help="Image folder (repeatable).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Plan as on this date (YYYY-MM-DD).")] = None,
) -> None:
    """Build and store a deletion plan (a dry run: nothing is moved). Prints its id and why.

    Uses the config's retention section; options override it for an ad-hoc plan.

    Example: dataward retention plan --leavers leavers.csv --on-roll pupils.csv --images /srv/photos
    """
    from ..retention.planning import inputs_from, make_plan
    s = get_settings(ctx)
    inputs = inputs_from(s, leavers=leavers, on_roll=on_roll, consent=consent, images=images,
                         as_of=parse_as_of(as_of))
    with open_ledger(s) as ledger, progress(transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def tick(stage: str, n: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task({"inventory": "reading images",
                                             "hash": "hashing due files"}[stage], total=total)
            bar.advance(tasks[stage], n)

        summary = make_plan(s, ledger, inputs, progress=tick)
    _print_summary(summary)
    if summary.due:
        out.print(f"next: `dataward retention show {summary.plan_id}`, then a named person runs "
                  f"`dataward retention approve {summary.plan_id} --by NAME`")


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    plan_id: Annotated[str, typer.Argument(help="Plan id, or `latest`.")] = "latest",
) -> None:
    """Show a plan: its counts, approval and each due file with the reason (tab-separated).

    Example: dataward retention show latest
    """
    from ..retention import store
    from ..retention.planning import summary_of
    with open_ledger(get_settings(ctx)) as ledger:
        row = store.get_plan(ledger, plan_id)
        items = store.plan_items(ledger, row.plan_id)
    _print_summary(summary_of(row))
    if row.approved_by:
        out.print(f"  approved by {row.approved_by} at {row.approved_at[:19]} UTC")
    typer.echo("item\tstate\tbytes\tfile\twhy")
    for it in items:
        typer.echo(f"{it.item_no}\t{it.state}\t{it.size}\t{it.path}\t{it.reason}")


@app.command("list")
def list_cmd(ctx: typer.Context,
             last: Annotated[int, typer.Option(help="How many of the newest plans.")] = 20) -> None:
    """List retention plans, newest first.

    Example: dataward retention list --last 5
    """
    from rich.table import Table

    from ..retention import store
    with open_ledger(get_settings(ctx)) as ledger:
        rows = store.list_plans(ledger, last)
    t = Table("plan", "created (UTC)", "as of", "status", "images", "due", "approved by")
    for r in rows:
        t.add_row(r.plan_id, r.created[:19], r.as_of, r.status, str(r.images), str(r.due),
                  r.approved_by or "")
    out.print(t)


@app.command("approve")
def approve_cmd(
    ctx: typer.Context,
    plan_id: Annotated[str, typer.Argument(help="Plan id.")],
    by: Annotated[str, typer.Option("--by", help="Full name of the person approving.")],
) -> None:
    """Record that a named person approved a plan. Only approved plans can be applied.

    Example: dataward retention approve rp-20250901-060000-ab12 --by "Ann Smith (DPO)"
    """
    from ..retention.planning import approve_plan
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        summary = approve_plan(s, ledger, plan_id, by)
    out.print(f"plan {summary.plan_id} approved by {by}: {summary.due} file(s) to quarantine")
    out.print(f"next: `dataward retention apply {summary.plan_id}`")


@app.command("apply")
def apply_cmd(
    ctx: typer.Context,
    plan_id: Annotated[str, typer.Argument(help="Plan id.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every file, move none.")] = False,
) -> None:
    """Move an approved plan's due files into quarantine (same volume), keeping a manifest.

    Refused if the plan is not approved or any file changed since planning. Resumes a run
    that was interrupted.

    Example: dataward retention apply rp-20250901-060000-ab12
    """
    from ..retention import store
    from ..retention.quarantine import apply_plan
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        total = store.get_plan(ledger, plan_id).due
        with progress(transient=True) as bar:
            task = bar.add_task("quarantining", total=total)
            result = apply_plan(s, ledger, plan_id, dry_run=dry_run,
                                tick=lambda n: bar.advance(task, n))
    if dry_run:
        out.print(f"dry run: all files of plan {plan_id} are as planned; nothing moved")
    else:
        out.print(f"plan {plan_id}: {result.moved} file(s) quarantined "
                  f"({result.bytes_moved / 1e6:.1f} MB); {result.already} already done")
        out.print(f"purged after {s.retention.grace_days} days by `dataward retention purge`; "
                  f"undo with `dataward retention restore {plan_id}`")


@app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="PLAN (every file) or PLAN:ITEM (one file).")],
) -> None:
    """Move quarantined files back where they were.

    Example: dataward retention restore rp-20250901-060000-ab12:17
    """
    from ..retention.quarantine import restore
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        result = restore(s, ledger, target)
    out.print(f"restored {result.restored} file(s)")


@app.command("purge")
def purge_cmd(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete (default: show what would go).")] = False,
) -> None:
    """Delete quarantined files past the grace period and write the deletion record.

    Each file is overwritten, then unlinked. Without --yes it only counts.

    Example: dataward retention purge --yes
    """
    from ..retention.purge import purge
    s = get_settings(ctx)
    with open_ledger(s) as ledger, progress(transient=True) as bar:
        task = bar.add_task("purging")
        result = purge(s, ledger, dry_run=not yes, tick=lambda n: bar.advance(task, n))
    if not yes:
        out.print(f"dry run: {result.eligible} file(s) past the {s.retention.grace_days}-day "
                  f"grace period would be purged; {result.waiting} still in their grace period")
        out.print("run `dataward retention purge --yes` to delete them")
        return
    out.print(f"purged {result.purged} file(s) ({result.bytes_purged / 1e6:.1f} MB); "
              f"{result.waiting} still in their grace period")
    if result.record:
        out.print(f"deletion record: {result.record}")


@app.command("deletions")
def deletions_cmd(
    ctx: typer.Context,
    plan_id: Annotated[Optional[str], typer.Option("--plan", help="Only this plan.")] = None,
) -> None:
    """Print the deletion record as CSV: path, size, SHA-256, reason, approver, times.

    Example: dataward retention deletions --plan rp-20250901-060000-ab12 > deletions.csv
    """
    import sys

    from ..cells import write_csv
    from ..retention import store
    from ..retention.purge import RECORD_FIELDS
    with open_ledger(get_settings(ctx)) as ledger:
        rows = store.deletions(ledger, plan_id=plan_id)
    write_csv(sys.stdout, RECORD_FIELDS, ([getattr(r, f) for f in RECORD_FIELDS] for r in rows),
              lineterminator="\n")


@app.command("abandon")
def abandon_cmd(
    ctx: typer.Context,
    plan_id: Annotated[str, typer.Argument(help="Plan id.")],
    by: Annotated[str, typer.Option("--by", help="Full name of the person deciding.")],
    reason: Annotated[str, typer.Option(help="What was done by hand (kept in the audit log).")] = "",
) -> None:
    """Close a plan's interrupted step that cannot be finished (a folder swapped for a
    symlink since), after a person has dealt with the files by hand. Audited with the name;
    nothing is moved or deleted. Until then only that plan is held up.

    Example: dataward retention abandon rp-20250901-060000-ab12 --by "Ann Smith (DPO)" --reason "folder restored from backup"
    """
    from ..retention.recovery import abandon
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        closed = abandon(s, ledger, plan_id, by=by, reason=reason)
    out.print(f"plan {plan_id}: {len(closed)} interrupted step(s) closed by {by}, nothing moved")
