"""Applying and undoing a remediation plan, one file at a time.

Each file is reached from its root folder by folder descriptors opened with O_NOFOLLOW
(``retention.safefs``), checked (a regular file, one link, the content planned), then
moved (``remediate.moves``): with one ``rename`` between the two folders' descriptors
when both are on one file system, else by copy, verify, place and remove, each step
recorded in the ledger. A file is recorded as done with an audit record. A crash is
repaired on the next run: a file found at its destination with the planned content counts
as done, and a copy goes on from the step it reached. So ``apply`` can be run again until
every item is done, and ``undo`` moves them back the same way. Nothing is ever
overwritten.

A rename whose plan keeps the old name in the image's metadata (``metadata_status``
"name kept ...") writes the new file as a copy with the description added
(``remediate.imagemeta``), then removes the old name; its undo puts the old name back on
that file (the description stays in it)."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import update

from ..errors import RefusedError
from ..ledger import Ledger
from ..retention.safefs import is_regular, lstat_at, open_dir
from ..schema import remediation_items, remediation_plans
from .imagemeta import describe
from .moves import APPLY, UNDO, Steps, copy_move, rename_move, same_file_system
from .plan import Plan, PlanItem, get_plan


@dataclass(frozen=True)
class ApplyResult:
    plan_id: str
    done: int
    skipped: list[str]       # item id: why (never a path)


def note_name(it: PlanItem) -> str:
    return f"MOVED-{it.item_id}.txt"


def _note(it: PlanItem, text: str, *, remove: bool = False) -> None:
    """Leave (or, on undo, take away) the note where a moved file was."""
    rel_dir = str(PurePosixPath(it.rel).parent)
    with open_dir(Path(it.root), "" if rel_dir == "." else rel_dir) as fd:
        name = note_name(it)
        if remove:
            if is_regular(lstat_at(fd, name)):
                os.unlink(name, dir_fd=fd)
            return
        try:
            nfd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644,
                          dir_fd=fd)
        except FileExistsError:
            return  # left by an earlier, interrupted run
        with os.fdopen(nfd, "w", encoding="utf-8") as fh:
            fh.write(f"A file that was here (item {it.item_id}) was moved to a restricted "
                     f"folder because it holds personal data.\n{text}\n")


def _set_state(ledger: Ledger, plan_id: str, it: PlanItem, state: str, action: str) -> None:
    with ledger.begin() as conn:
        conn.execute(update(remediation_items).where(
            (remediation_items.c.plan_id == plan_id) & (remediation_items.c.item_no == it.item_no))
            .values(state=state))
        ledger.audit(action, it.item_id, conn=conn, plan_id=plan_id)


def _recorder(ledger: Ledger, plan_id: str, it: PlanItem) -> Callable[[str, str], None]:
    """Records one step of a copy (``remediate.moves``) in the ledger, with an audit
    record of each step so the log shows how far a killed run got."""
    def record(state: str, new_sha: str) -> None:
        values: dict[str, str] = {"state": state}
        if new_sha:
            values["new_sha256"] = new_sha
        with ledger.begin() as conn:
            conn.execute(update(remediation_items).where(
                (remediation_items.c.plan_id == plan_id)
                & (remediation_items.c.item_no == it.item_no)).values(**values))
            ledger.audit("remediate.step", it.item_id, conn=conn, plan_id=plan_id, state=state)
    return record


def keeps_name(it: PlanItem) -> bool:
    return it.metadata_status.startswith("name kept")


def _forward(ledger: Ledger, plan: Plan, it: PlanItem) -> str | None:
    """Apply one item; why it was refused, or None when it is done."""
    part = f".dataward-{plan.plan_id}-{it.item_no}.part"
    record = _recorder(ledger, plan.plan_id, it)
    if keeps_name(it):
        name = PurePosixPath(it.rel).name

        def add_name(data: bytes) -> bytes:
            new = describe(data, PurePosixPath(it.rel).suffix, name).data
            if new is None:
                raise RefusedError(f"item {it.item_id}: its metadata can no longer be written")
            return new
        return copy_move(it.root, it.rel, it.dest_root, it.dest_rel, sha256=it.sha256,
                         state=it.state, steps=APPLY, part=part, record=record,
                         transform=add_name, placed_sha=it.new_sha256)
    if it.state in (APPLY.copying, APPLY.placed) or not same_file_system(
            it.root, it.rel, it.dest_root, it.dest_rel):
        return copy_move(it.root, it.rel, it.dest_root, it.dest_rel, sha256=it.sha256,
                         state=it.state, steps=APPLY, part=part, record=record,
                         placed_sha=it.new_sha256)
    return rename_move(it.root, it.rel, it.dest_root, it.dest_rel, it.sha256)


def _backward(ledger: Ledger, plan: Plan, it: PlanItem) -> str | None:
    """Undo one item; why it was refused, or None when it is back."""
    sha = it.new_sha256 if keeps_name(it) else it.sha256
    if keeps_name(it) or (it.state == "done" and same_file_system(
            it.dest_root, it.dest_rel, it.root, it.rel)):
        return rename_move(it.dest_root, it.dest_rel, it.root, it.rel, sha)
    steps: Steps = UNDO
    return copy_move(it.dest_root, it.dest_rel, it.root, it.rel, sha256=sha, state=it.state,
                     steps=steps, part=f".dataward-{plan.plan_id}-{it.item_no}.undo.part",
                     record=_recorder(ledger, plan.plan_id, it), placed_sha=it.sha256)


@dataclass(frozen=True)
class _Way:
    """One direction of a plan: the items it takes, how one is moved, what is recorded."""

    takes: Callable[[PlanItem], bool]
    move: Callable[[Ledger, Plan, PlanItem], str | None]   # why refused, or None: moved
    item_state: str          # an item once moved this way, and its audit action
    item_action: str
    plan_status: str         # the plan once no item was refused, and the run's audit action
    plan_action: str
    remove_note: bool        # take away the note left where a moved file was


_APPLY = _Way(lambda it: it.state != "done", _forward, "done", "remediate.moved",
              "applied", "remediate.apply", remove_note=False)
_UNDO = _Way(lambda it: it.state in ("done", UNDO.copying, UNDO.placed), _backward, "undone",
             "remediate.undone", "undone", "remediate.undo", remove_note=True)


def _walk(ledger: Ledger, plan: Plan, way: _Way) -> ApplyResult:
    """Move each item the way takes; a refused item is listed and leaves the plan's
    status as it was, so the next run tries it again."""
    done, skipped = 0, []
    for it in plan.items:
        if not way.takes(it):
            continue
        why = way.move(ledger, plan, it)
        if why:
            skipped.append(f"{it.item_id}: {why}")
            continue
        if plan.action == "move" and plan.note:
            _note(it, plan.note, remove=way.remove_note)
        _set_state(ledger, plan.plan_id, it, way.item_state, way.item_action)
        done += 1
    with ledger.begin() as conn:
        if not skipped:
            conn.execute(update(remediation_plans).where(
                remediation_plans.c.plan_id == plan.plan_id).values(status=way.plan_status))
        ledger.audit(way.plan_action, plan.plan_id, conn=conn, done=done, skipped=len(skipped))
    return ApplyResult(plan.plan_id, done, skipped)


def apply_plan(ledger: Ledger, plan_id: str) -> ApplyResult:
    plan = get_plan(ledger, plan_id)
    if plan.status not in ("approved", "applied"):
        raise RefusedError(f"plan {plan_id} is {plan.status}: it needs a named approval first "
                           f"(dataward remediate approve {plan_id} --by NAME)")
    return _walk(ledger, plan, _APPLY)


def undo_plan(ledger: Ledger, plan_id: str) -> ApplyResult:
    return _walk(ledger, get_plan(ledger, plan_id), _UNDO)
