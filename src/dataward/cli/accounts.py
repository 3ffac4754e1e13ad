"""`dataward accounts`: leavers' accounts audit, and disabling them (plan, approve,
apply, undo)."""
from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from ..home import open_ledger
from .common import get_settings, out, parse_as_of

app = typer.Typer(help="Leavers' accounts: audit the directories against the MIS, then "
                       "disable leavers' accounts: plan -> approve -> apply (-> undo).",
                  no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="accounts")


AsOf = Annotated[Optional[str], typer.Option("--as-of", help="Audit as on this date (YYYY-MM-DD).")]


@app.command("audit")
def audit_cmd(ctx: typer.Context, as_of: AsOf = None,
              as_json: Annotated[bool, typer.Option("--json", help="One JSON object per finding.")] = False,
              ) -> None:
    """List leavers' accounts still enabled, shared accounts with old passwords, and
    accounts that match no one on roll or on the staff list (tab-separated).

    Changes nothing. Account names are printed here, for the technician, and stored
    nowhere: the ledger keeps counts.

    Example: dataward accounts audit --as-of 2025-09-01
    """
    from ..accounts.service import run_audit
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        run = run_audit(s, ledger, as_of=parse_as_of(as_of))
    if as_json:
        for f in run.result.findings:
            typer.echo(json.dumps({"finding": f.kind, "directory": f.directory, "account": f.login,
                                   "person": f.person, "left": str(f.left or ""), "days": f.days,
                                   "why": f.why}))
        return
    c = run.result.counts
    out.print(f"audit {run.audit_id} as of {run.result.as_of}: {run.result.accounts} accounts; "
              f"{c['leaver-enabled']} leaver(s) still enabled, {c['shared-password']} shared "
              f"account(s) with old passwords, {c['no-match']} matching no one")
    typer.echo("finding\tdirectory\taccount\twhy")
    for f in run.result.findings:
        typer.echo(f"{f.kind}\t{f.directory}\t{f.login}\t{f.why}")
    for w in run.warnings[:20]:
        out.print(f"warning: {w}")


@app.command("plan")
def plan_cmd(ctx: typer.Context, as_of: AsOf = None) -> None:
    """Audit, then store a plan to disable every leaver's account still enabled in Active
    Directory (a dry run: nothing changes until it is approved and applied).

    Example: dataward accounts plan
    """
    from ..accounts.service import make_plan, run_audit
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        plan = make_plan(s, ledger, run_audit(s, ledger, as_of=parse_as_of(as_of)))
    out.print(f"plan {plan.plan_id}: {plan.items} account(s) to disable")
    if plan.items:
        out.print(f"next: `dataward accounts show {plan.plan_id}`, then a named person runs "
                  f"`dataward accounts approve {plan.plan_id} --by NAME`")


@app.command("show")
def show_cmd(ctx: typer.Context,
             plan_id: Annotated[str, typer.Argument(help="Plan id, or `latest`.")] = "latest") -> None:
    """Show a plan's accounts (masked), why each is there and its state (tab-separated).

    Example: dataward accounts show latest
    """
    from ..accounts import store
    with open_ledger(get_settings(ctx)) as ledger:
        row = store.get_plan(ledger, plan_id)
        items = store.plan_items(ledger, row.plan_id)
    out.print(f"plan {row.plan_id} (as of {row.as_of}, {row.status}): {row.items} account(s)")
    if row.approved_by:
        out.print(f"  approved by {row.approved_by} (as OS user {row.approved_os_user}) "
                  f"at {row.approved_at[:19]} UTC")
    typer.echo("item\tstate\tdirectory\taccount\twhy")
    for it in items:
        typer.echo(f"{it.item_no}\t{it.state}\t{it.directory}\t{it.masked}\t{it.reason}")


@app.command("list")
def list_cmd(ctx: typer.Context,
             last: Annotated[int, typer.Option(help="How many of the newest plans.")] = 20) -> None:
    """List accounts plans, newest first.

    Example: dataward accounts list --last 5
    """
    from ..accounts import store
    with open_ledger(get_settings(ctx)) as ledger:
        rows = store.list_plans(ledger, last)
    for r in rows:
        out.print(f"{r.plan_id}\t{r.created[:19]}\t{r.status}\t{r.items}\t{r.approved_by or ''}")


@app.command("approve")
def approve_cmd(ctx: typer.Context,
                plan_id: Annotated[str, typer.Argument(help="Plan id.")],
                by: Annotated[str, typer.Option("--by", help="Full name of the person approving.")],
                ) -> None:
    """Record that a named person approved a plan (the OS user is recorded too).

    Example: dataward accounts approve ap-20250901-060000-ab12 --by "Ann Smith (DPO)"
    """
    from ..accounts.service import approve_plan
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        row = approve_plan(s, ledger, plan_id, by)
    out.print(f"plan {row.plan_id} approved by {row.approved_by}: {row.items} account(s) to disable")
    out.print(f"next: `dataward accounts apply {row.plan_id}`")


@app.command("apply")
def apply_cmd(ctx: typer.Context, plan_id: Annotated[str, typer.Argument(help="Plan id.")]) -> None:
    """Disable an approved plan's accounts in Active Directory (ACCOUNTDISABLE only).

    Example: dataward accounts apply ap-20250901-060000-ab12
    """
    from ..accounts.service import apply_plan
    from ..errors import PartialError
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        r = apply_plan(s, ledger, plan_id)
    out.print(f"plan {plan_id}: {r.disabled} account(s) disabled; {r.already} already done")
    out.print(f"undo with `dataward accounts undo {plan_id}` (or {plan_id}:ITEM)")
    if r.refused:
        raise PartialError(f"{len(r.refused)} account(s) not changed: " + "; ".join(r.refused))


@app.command("undo")
def undo_cmd(ctx: typer.Context,
             target: Annotated[str, typer.Argument(help="PLAN (every account) or PLAN:ITEM.")]) -> None:
    """Enable again accounts a plan disabled.

    Example: dataward accounts undo ap-20250901-060000-ab12:3
    """
    from ..accounts.service import undo
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        n = undo(s, ledger, target)
    out.print(f"enabled {n} account(s) again")
