"""`dataward remediate`: move exposed files into a restricted folder, rename images whose
names name pupils; plan, named approval, apply (resumable), undo."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..home import open_ledger
from .common import console, get_settings, out

if TYPE_CHECKING:
    from ..remediate.plan import Plan

remediate_app = typer.Typer(
    help="Fix exposed items safely: plan, approve with a name, apply, undo.", no_args_is_help=True)
PlanId = Annotated[str, typer.Argument(help="The plan id printed by `remediate plan`.")]


def _show(plan: Plan) -> None:
    out.print(f"plan {plan.plan_id}: {plan.action} of {len(plan.items)} item(s), {plan.status}"
              + (f", approved by {plan.approved_by}" if plan.approved_by else ""))
    for it in plan.items:
        out.print(f"  {it.item_id} {it.state}" + (f" ({it.metadata_status})" if it.metadata_status else ""))


@remediate_app.command("plan")
def plan(
    ctx: typer.Context,
    items: Annotated[list[str], typer.Argument(help="Report item ids.")],
    move_to: Annotated[Path | None, typer.Option(
        "--move-to", help="SECURE_ROOT: a restricted folder inside a configured source.")] = None,
    rename: Annotated[bool, typer.Option(
        "--rename", help="Rename the images to IMG-<item id>.<ext> instead.")] = False,
    note: Annotated[str, typer.Option(help="Moves: leave MOVED-<id>.txt saying who to ask.")] = "",
) -> None:
    """Plan a fix for report items; nothing moves until the plan is approved and applied.

    Examples:
      dataward remediate plan 3f9a0c1d2e4b 5e8b1d0a9c2f --move-to /srv/shares/admin/Restricted --note "Ask the DPO, ext 214"
      dataward remediate plan 7a2c4e6f8b0d --rename
    """
    from ..errors import UsageError
    from ..remediate.plan import make_plan
    if (move_to is None) == (not rename):
        raise UsageError("choose one of --move-to SECURE_ROOT and --rename")
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        p = make_plan(s, ledger, items, action="rename" if rename else "move",
                      move_to=move_to, note=note)
    _show(p)
    out.print(f"next: dataward remediate approve {p.plan_id} --by NAME")


@remediate_app.command("approve")
def approve(ctx: typer.Context, plan_id: PlanId,
            by: Annotated[str, typer.Option("--by", help="Full name of the person approving.")]) -> None:
    """Approve a plan by name (recorded with the operating-system user).

    Example: dataward remediate approve rm-20261130-090000-ab12 --by "Ann Smith (DPO)"
    """
    from ..remediate.plan import approve_plan
    with open_ledger(get_settings(ctx)) as ledger:
        _show(approve_plan(ledger, plan_id, by))


@remediate_app.command("apply")
def apply(ctx: typer.Context, plan_id: PlanId) -> None:
    """Apply an approved plan; run it again to finish one that was interrupted.

    Example: dataward remediate apply rm-20261130-090000-ab12
    """
    from ..remediate.apply import apply_plan
    with open_ledger(get_settings(ctx)) as ledger:
        res = apply_plan(ledger, plan_id)
    out.print(f"plan {plan_id}: {res.done} item(s) done")
    for why in res.skipped:
        console.print(f"[yellow]skipped[/] {why}")


@remediate_app.command("undo")
def undo(ctx: typer.Context, plan_id: PlanId) -> None:
    """Put every moved or renamed file of a plan back where it was.

    Example: dataward remediate undo rm-20261130-090000-ab12
    """
    from ..remediate.apply import undo_plan
    with open_ledger(get_settings(ctx)) as ledger:
        res = undo_plan(ledger, plan_id)
    out.print(f"plan {plan_id}: {res.done} item(s) put back")
    for why in res.skipped:
        console.print(f"[yellow]skipped[/] {why}")


def register(app: typer.Typer) -> None:
    app.add_typer(remediate_app, name="remediate")
