"""Remediation plans: which report items move where (or get which new name), approved by a
named person before anything moves.

A plan is made from report item ids (``dataward show`` resolves the same ids). Each file
must be a regular file with one link, under a configured source root; a move's
destination must be a configured source root (or a folder inside one), so a move cannot
leave the roots; on the same file system it is one ``rename``, on another a verified copy
(``remediate.moves``). A rename gives an image the name ``IMG-<item id><ext>`` in its own
folder; when the school keeps names (``remediate.keep_name_in_metadata``), the plan says
per image whether its format can hold the old name (``remediate.imagemeta``). A move may leave a note
(``MOVED-<item id>.txt``) where the file was, saying who to ask."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import insert, select, update

from ..errors import NotFoundError, PathOutsideRootsError, RefusedError, UsageError
from ..ledger import Ledger, current_user, utcnow
from ..pipelines.approval import approver_named, refuse_unless_waiting
from ..pipelines.report_show import locate_item
from ..schema import remediation_items, remediation_plans
from ..settings import Settings

ACTIONS = ("move", "rename")


@dataclass(frozen=True)
class PlanItem:
    item_no: int
    item_id: str
    root: str
    rel: str
    dest_root: str
    dest_rel: str
    sha256: str
    state: str
    metadata_status: str = ""     # rename: whether the old name goes into the image's metadata
    new_sha256: str = ""          # the content left at the destination (recorded on apply)


@dataclass(frozen=True)
class Plan:
    plan_id: str
    action: str
    dest_root: str
    status: str
    approved_by: str | None
    items: list[PlanItem]
    note: str = ""


def _roots(settings: Settings) -> list[Path]:
    return [Path(os.path.realpath(s.path)) for s in settings.sources if s.path is not None]


def _root_of(path: Path, roots: list[Path]) -> Path | None:
    for r in sorted(roots, key=lambda r: -len(str(r))):
        if path == r or r in path.parents:
            return r
    return None


def make_plan(settings: Settings, ledger: Ledger, items: list[str], *, action: str,
              move_to: Path | None = None, note: str = "", actor: str | None = None) -> Plan:
    """Plan ``action`` for the report items ``items``; nothing moves until approved."""
    if action not in ACTIONS:
        raise UsageError(f"unknown action {action!r}")
    if not items:
        raise UsageError("name at least one report item")
    roots = _roots(settings)
    dest_root = ""
    if action == "move":
        if move_to is None:
            raise UsageError("--move-to SECURE_ROOT is needed")
        dest = Path(os.path.abspath(move_to))
        if dest.is_symlink() or _root_of(dest, roots) is None or not dest.is_dir():
            raise PathOutsideRootsError(
                "--move-to must be an existing folder inside a configured source (no symlink)",
                hint="add the restricted folder as a source with an admin audience")
        dest_root = str(dest)
    rows: list[PlanItem] = []
    for n, item in enumerate(items, start=1):
        found = locate_item(settings, ledger, item)
        if "!/" in found.locator or "#" in found.locator or not found.path.startswith("/"):
            raise RefusedError(f"item {found.item_id} is inside an archive or mailbox: move its container")
        src = Path(found.path)
        root = _root_of(Path(os.path.abspath(src.parent)), roots)
        if root is None:
            raise PathOutsideRootsError(f"item {found.item_id} is outside the configured sources")
        rel = str(PurePosixPath(os.path.relpath(src, root)))
        meta = ""
        if action == "move":
            dest_rel = PurePosixPath(rel).name
            base_root = dest_root
        else:
            dest_rel = str(PurePosixPath(rel).with_name(f"IMG-{found.item_id}{src.suffix.lower()}"))
            base_root = str(root)
            if settings.remediate.keep_name_in_metadata:
                meta = _metadata_status(root, rel)
        rows.append(PlanItem(n, found.item_id, str(root), rel, base_root, dest_rel,
                             found.sha256, "planned", meta))
    names = [(r.dest_root, r.dest_rel) for r in rows]
    if len(set(names)) != len(names):
        raise RefusedError("two items would get the same name at the destination")
    plan_id = f"rm-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    with ledger.begin() as conn:
        conn.execute(insert(remediation_plans).values(
            plan_id=plan_id, created=utcnow(), created_by=actor or current_user(),
            action=action, dest_root=dest_root, note=note.strip(), status="planned"))
        for r in rows:
            conn.execute(insert(remediation_items).values(plan_id=plan_id, **r.__dict__))
        ledger.audit("remediate.plan", plan_id, conn=conn, fix=action, items=len(rows))
    return get_plan(ledger, plan_id)


def _metadata_status(root: Path, rel: str) -> str:
    """What a rename will do with the old name (the plan shows it before approval)."""
    from ..retention.safefs import open_dir
    from .imagemeta import describe
    p = PurePosixPath(rel)
    with open_dir(root, "" if str(p.parent) == "." else str(p.parent)) as fd:
        nfd = os.open(p.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        with os.fdopen(nfd, "rb") as fh:
            data = fh.read()
    return describe(data, p.suffix, p.name).status


def get_plan(ledger: Ledger, plan_id: str) -> Plan:
    with ledger.engine.connect() as conn:
        p = conn.execute(select(remediation_plans).where(
            remediation_plans.c.plan_id == plan_id)).first()
        if p is None:
            raise NotFoundError(f"no remediation plan {plan_id}")
        items = conn.execute(select(remediation_items).where(
            remediation_items.c.plan_id == plan_id).order_by(remediation_items.c.item_no)).all()
    return Plan(p.plan_id, p.action, p.dest_root, p.status, p.approved_by,
                [PlanItem(i.item_no, i.item_id, i.root, i.rel, i.dest_root, i.dest_rel,
                          i.sha256, i.state, i.metadata_status or "", i.new_sha256 or "")
                 for i in items], p.note or "")


def approve_plan(ledger: Ledger, plan_id: str, by: str) -> Plan:
    by = approver_named(plan_id, by, (), job="remediate")
    plan = get_plan(ledger, plan_id)
    refuse_unless_waiting(plan_id, plan.status, plan.approved_by, job="remediate")
    with ledger.begin() as conn:
        conn.execute(update(remediation_plans).where(remediation_plans.c.plan_id == plan_id)
                     .values(status="approved", approved_by=by,
                             approved_os_user=current_user(), approved_at=utcnow()))
        ledger.audit("remediate.approve", plan_id, conn=conn, by=by)
    return get_plan(ledger, plan_id)
