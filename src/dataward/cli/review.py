"""`dataward review`: the DPO's decisions about the report's items, kept across scans."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ..review.decisions import Recorded

from ..home import open_ledger
from .common import get_settings, out

review_app = typer.Typer(
    help="Record the DPO's review of report items: accepted (with a reason and an expiry "
         "date), to-fix (with an owner) or false-positive (one finding). Decisions follow "
         "a file across renames and moves.", no_args_is_help=True)

By = Annotated[str, typer.Option("--by", help="Full name of the person deciding.")]
Item = Annotated[str, typer.Argument(help="The item id from the report's item column.")]


def _done(rec: Recorded) -> None:
    out.print(f"recorded: item {rec.item_id} {rec.kind} (decision {rec.decision_id}, "
              f"scan {rec.scan_id}); in the audit log")


@review_app.command("accept")
def accept(
    ctx: typer.Context, item: Item, by: By,
    reason: Annotated[str, typer.Option(help="Why the risk is accepted.")],
    until: Annotated[str, typer.Option(help="Expiry date (YYYY-MM-DD): the item is open again after it.")],
) -> None:
    """Accept an item's risk for a while: it is not counted as open until the expiry date.

    Example: dataward review accept 3f9a0c1d2e4b --reason "SENCo's working file, folder restricted" --until 2027-07-31 --by "Ann Smith (DPO)"
    """
    from ..errors import UsageError
    from ..review.decisions import record_decision
    try:
        expires = date.fromisoformat(until)
    except ValueError:
        raise UsageError(f"--until {until!r} is not a date (YYYY-MM-DD)") from None
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        _done(record_decision(s, ledger, item, "accepted", by=by, reason=reason, expires=expires))


@review_app.command("to-fix")
def to_fix(
    ctx: typer.Context, item: Item, by: By,
    owner: Annotated[str, typer.Option(help="Who will fix it (name or role).")],
) -> None:
    """Mark an item to be fixed by an owner; it counts as fixed once a later scan no longer
    finds personal data in it.

    Example: dataward review to-fix 3f9a0c1d2e4b --owner "Network manager" --by "Ann Smith (DPO)"
    """
    from ..review.decisions import record_decision
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        _done(record_decision(s, ledger, item, "to-fix", by=by, owner=owner))


@review_app.command("false-positive")
def false_positive(
    ctx: typer.Context, item: Item, by: By,
    finding: Annotated[str, typer.Option(help="The finding's REF from `dataward review findings ITEM`.")],
    reason: Annotated[str, typer.Option(help="Why it is not personal data.")] = "",
) -> None:
    """Mark one finding of an item as not personal data (an item whose every finding is a
    false positive is no longer open).

    Example: dataward review false-positive 3f9a0c1d2e4b --finding 9c1e2a7b40 --by "Ann Smith (DPO)"
    """
    from ..review.decisions import record_decision
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        _done(record_decision(s, ledger, item, "false-positive", by=by, finding=finding,
                              reason=reason))


@review_app.command("withdraw")
def withdraw(ctx: typer.Context, item: Item, by: By) -> None:
    """Withdraw every decision about an item (accepted, to-fix, false-positive): the item
    is open again in the report. Recorded in the audit log with the operating-system user.

    Example: dataward review withdraw 3f9a0c1d2e4b --by "Ann Smith (DPO)"
    """
    from ..review.decisions import withdraw_decisions
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        w = withdraw_decisions(s, ledger, item, by=by)
    out.print(f"withdrawn: {len(w.decisions)} decision(s) about item {w.item_id} "
              f"({', '.join(map(str, w.decisions))}); it is open again; in the audit log")


@review_app.command("findings")
def findings(ctx: typer.Context, item: Item) -> None:
    """List an item's findings (masked) with the REF that `review false-positive` takes.

    Example: dataward review findings 3f9a0c1d2e4b
    """
    from rich.table import Table

    from ..review.decisions import item_findings
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        rows = item_findings(s, ledger, item)
    t = Table("ref", "entity", "where", "masked preview")
    for f in rows:
        t.add_row(f.ref, f.entity_type, f.where, f.preview)
    out.print(t)


@review_app.command("list")
def list_reviews(
    ctx: typer.Context,
    scan: Annotated[str, typer.Option("--scan", help="Scan id, or `latest`.")] = "latest",
) -> None:
    """Every decision and where it stands in a scan: open, to-fix, accepted, expired, fixed.

    Example: dataward review list
    """
    from rich.table import Table

    from ..review.decisions import review_list
    s = get_settings(ctx)
    with open_ledger(s) as ledger:
        lines = review_list(s, ledger, scan)
    t = Table("state", "item", "path (masked)", "decision", "note", "by", "when (UTC)")
    for r in lines:
        t.add_row(r.state, r.item_id, r.shown, r.kind, r.note, r.decided_by, r.decided_at)
    out.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
