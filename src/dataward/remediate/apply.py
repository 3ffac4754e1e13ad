"""Applying and undoing a remediation plan, one file at a time.

Each file is reached from its root folder by folder descriptors opened with O_NOFOLLOW
(``retention.safefs``), checked (a regular file, one link, the content planned), then
moved with one ``rename`` between the two folders' descriptors, and recorded as done in
the ledger with an audit record. A crash between the rename and the record is repaired on
the next run: a file found at its destination with the planned content counts as done. So
``apply`` can be run again until every item is done, and ``undo`` moves them back the
same way. Nothing is ever overwritten."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import update

from ..errors import RefusedError
from ..ledger import Ledger
from ..retention.safefs import ensure_dir, fsync_dir, is_regular, lstat_at, open_dir, sha256_at
from ..schema import remediation_items, remediation_plans
from .plan import Plan, PlanItem, get_plan


@dataclass(frozen=True)
class ApplyResult:
    plan_id: str
    done: int
    skipped: list[str]       # item id: why (never a path)


def _dest_dir(root: str, rel_dir: str) -> int:
    """A descriptor of ``root/rel_dir``, made if needed, no symlink followed."""
    with open_dir(Path(root)) as rfd:
        fd = os.dup(rfd)
    for name in [p for p in rel_dir.split("/") if p]:
        nfd = ensure_dir(fd, name, 0o750)
        os.close(fd)
        fd = nfd
    return fd


def _move(src_root: str, src_rel: str, dst_root: str, dst_rel: str, sha256: str) -> str | None:
    """Move one file; returns why it was refused, or None when it is (now) at its
    destination."""
    s, d = PurePosixPath(src_rel), PurePosixPath(dst_rel)
    with open_dir(Path(src_root), str(s.parent) if str(s.parent) != "." else "") as sfd:
        dfd = _dest_dir(dst_root, str(d.parent) if str(d.parent) != "." else "")
        try:
            st, there = lstat_at(sfd, s.name), lstat_at(dfd, d.name)
            if st is None and is_regular(there) and sha256_at(dfd, d.name) == sha256:
                return None        # moved before a crash: count it as done
            if not is_regular(st):
                return "not a regular file any more (missing, a folder or a symlink)"
            assert st is not None
            if st.st_nlink > 1:
                return f"has {st.st_nlink} hard links: moving one name would leave the data"
            if sha256 and sha256_at(sfd, s.name) != sha256:
                return "its content changed since the plan"
            if there is not None:
                return "a file of that name already exists at the destination"
            os.rename(s.name, d.name, src_dir_fd=sfd, dst_dir_fd=dfd)
            fsync_dir(dfd)
            fsync_dir(sfd)
            return None
        finally:
            os.close(dfd)


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


def _finish(ledger: Ledger, plan: Plan, status: str, action: str, done: int,
            skipped: list[str]) -> ApplyResult:
    with ledger.begin() as conn:
        if not skipped:
            conn.execute(update(remediation_plans).where(
                remediation_plans.c.plan_id == plan.plan_id).values(status=status))
        ledger.audit(action, plan.plan_id, conn=conn, done=done, skipped=len(skipped))
    return ApplyResult(plan.plan_id, done, skipped)


def apply_plan(ledger: Ledger, plan_id: str) -> ApplyResult:
    plan = get_plan(ledger, plan_id)
    if plan.status not in ("approved", "applied"):
        raise RefusedError(f"plan {plan_id} is {plan.status}: it needs a named approval first "
                           f"(dataward remediate approve {plan_id} --by NAME)")
    done, skipped = 0, []
    for it in plan.items:
        if it.state == "done":
            continue
        why = _move(it.root, it.rel, it.dest_root, it.dest_rel, it.sha256)
        if why:
            skipped.append(f"{it.item_id}: {why}")
            continue
        if plan.action == "move" and plan.note:
            _note(it, plan.note)
        _set_state(ledger, plan_id, it, "done", "remediate.moved")
        done += 1
    return _finish(ledger, plan, "applied", "remediate.apply", done, skipped)


def undo_plan(ledger: Ledger, plan_id: str) -> ApplyResult:
    plan = get_plan(ledger, plan_id)
    done, skipped = 0, []
    for it in plan.items:
        if it.state != "done":
            continue
        why = _move(it.dest_root, it.dest_rel, it.root, it.rel, it.sha256)
        if why:
            skipped.append(f"{it.item_id}: {why}")
            continue
        if plan.action == "move" and plan.note:
            _note(it, plan.note, remove=True)
        _set_state(ledger, plan_id, it, "undone", "remediate.undone")
        done += 1
    return _finish(ledger, plan, "undone", "remediate.undo", done, skipped)
