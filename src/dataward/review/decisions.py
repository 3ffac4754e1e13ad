"""Recording the DPO's review decisions (``dataward review``).

A decision is about the item the report shows under an id, in the newest scan that holds
it. The ledger keeps the item's id, inode, size, mtime and content hash (never its path),
so the decision follows the file when it is renamed or moved (``pipelines.report_review``).
A reason typed by the DPO has any roster name, UPN or e-mail address in it masked before
it is stored (the ledger holds no personal value)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import insert, select, update

from ..errors import NotFoundError, UsageError
from ..ledger import Ledger, current_user, utcnow
from ..pipelines.approval import person_named
from ..pipelines.outputs import FINDINGS_FILE
from ..pipelines.report_data import build_report_data
from ..pipelines.report_paths import PathMasker
from ..pipelines.report_review import ItemFinder, ReviewLine, load_decisions, successors
from ..pipelines.report_rules import rule_of
from ..pipelines.report_show import locate_item
from ..pipelines.scan import build_roster
from ..schema import review_decisions
from ..settings import Settings

KINDS = ("accepted", "to-fix", "false-positive")


@dataclass(frozen=True)
class ItemFinding:
    """One finding of an item, as the DPO may see it: masked, with a fingerprint prefix."""
    ref: str            # the first 10 characters of its fingerprint
    entity_type: str
    where: str
    preview: str
    fingerprint: str


@dataclass(frozen=True)
class Recorded:
    decision_id: int
    kind: str
    item_id: str
    scan_id: str


def item_findings(settings: Settings, ledger: Ledger, item: str) -> list[ItemFinding]:
    """The distinct findings of ``item`` in the newest scan holding it."""
    found = locate_item(settings, ledger, item)
    path = Path(ledger.get_scan(found.scan_id).out_dir) / FINDINGS_FILE
    if not path.exists():
        return []
    t = pq.read_table(path, columns=["locator", "entity_type", "where", "preview", "fingerprint"])
    t = t.filter(pc.equal(t["locator"], pa.scalar(found.locator)))
    seen: dict[tuple[str, str], ItemFinding] = {}
    for r in t.drop(["locator"]).to_pylist():
        fp = r["fingerprint"] or ""
        seen.setdefault((r["entity_type"], fp), ItemFinding(
            fp[:10], r["entity_type"], r["where"] or "", r["preview"] or "", fp))
    return sorted(seen.values(), key=lambda f: (f.entity_type, f.ref))


def _check(kind: str, by: str, reason: str, owner: str, expires: date | None,
           finding: str, today: date) -> str:
    """The decider's name, once the decision passes its rules."""
    if kind not in KINDS:
        raise UsageError(f"unknown decision {kind!r}; choose one of {', '.join(KINDS)}")
    name = person_named(by, "deciding")
    if kind == "accepted":
        if not reason.strip():
            raise UsageError("an accepted item needs a reason (--reason)")
        if expires is None or expires <= today:
            raise UsageError("an accepted item needs an expiry date after today (--until YYYY-MM-DD)")
    if kind == "to-fix" and not owner.strip():
        raise UsageError("an item to fix needs an owner (--owner \"Name or role\")")
    if kind == "false-positive" and not finding.strip():
        raise UsageError("name the finding that is a false positive (--finding REF, "
                         "from `dataward review findings ITEM`)")
    return name


def record_decision(settings: Settings, ledger: Ledger, item: str, kind: str, *, by: str,
                    reason: str = "", owner: str = "", expires: date | None = None,
                    finding: str = "", today: date | None = None) -> Recorded:
    """Record one decision about ``item`` (a report id) and audit it, in one transaction."""
    today = today or date.today()
    by = _check(kind, by, reason, owner, expires, finding, today)
    found = locate_item(settings, ledger, item)
    entity = fingerprint = None
    if kind == "false-positive":
        ref = finding.strip().lower()
        matches = [f for f in item_findings(settings, ledger, item) if f.fingerprint.startswith(ref)]
        if len(matches) != 1:
            raise UsageError(f"{len(matches)} findings of item {found.item_id} match {ref!r}; "
                             "give one REF from `dataward review findings ITEM`")
        entity, fingerprint = matches[0].entity_type, matches[0].fingerprint
    masker = PathMasker(build_roster(settings))
    values = dict(
        problem=_problem(settings, ledger, found.scan_id, found.item_id),
        decided_at=utcnow(), decided_by=by, os_user=current_user(), kind=kind,
        item_id=found.item_id, scan_id=found.scan_id, source=found.source, inode=found.inode,
        size=found.size, mtime_ns=found.mtime_ns, sha256=found.sha256,
        reason=masker.mask(reason.strip()), owner=masker.mask(owner.strip()),
        expires=expires.isoformat() if expires else None, entity_type=entity,
        fingerprint=fingerprint)
    with ledger.begin() as conn:
        key = conn.execute(insert(review_decisions).values(**values)).inserted_primary_key
        assert key is not None
        decision_id = key[0]
        ledger.audit(f"review.{kind}", found.item_id, conn=conn, decision_id=decision_id,
                     by=values["decided_by"], os_user=values["os_user"], scan_id=found.scan_id,
                     reason=values["reason"], owner=values["owner"], expires=values["expires"],
                     entity_type=entity, problem=values["problem"])
    return Recorded(int(decision_id), kind, found.item_id, found.scan_id)


@dataclass(frozen=True)
class Withdrawn:
    item_id: str
    decisions: list[int]


def withdraw_decisions(settings: Settings, ledger: Ledger, item: str, *, by: str) -> Withdrawn:
    """Withdraw every standing decision about ``item`` (found again as the report finds
    it: same place, or the same file renamed, moved or copied), so the item is open again.
    Audited as ``review.withdrawn`` with the operating-system user and the typed name."""
    by = person_named(by, "withdrawing")
    found = locate_item(settings, ledger, item)
    here = pd.DataFrame([{"item_id": found.item_id, "inode": found.inode, "size": found.size,
                          "mtime_ns": found.mtime_ns, "sha256": found.sha256}])
    finder = ItemFinder(here, successors(ledger))
    ids = [d.decision_id for d in load_decisions(ledger) if finder.find(d) is not None]
    if not ids:
        raise NotFoundError(f"item {found.item_id} has no review decision to withdraw",
                            hint="see `dataward review list`")
    os_user = current_user()
    with ledger.begin() as conn:
        conn.execute(update(review_decisions).where(review_decisions.c.decision_id.in_(ids))
                     .values(withdrawn_at=utcnow(), withdrawn_by=by,
                             withdrawn_os_user=os_user))
        ledger.audit("review.withdrawn", found.item_id, conn=conn, decisions=ids,
                     by=by, os_user=os_user, scan_id=found.scan_id)
    return Withdrawn(found.item_id, ids)


def _problem(settings: Settings, ledger: Ledger, scan_id: str, item_id: str) -> str | None:
    """The rule of the report's next step for the item in that scan (None: general)."""
    df = build_report_data(settings, ledger, scan_id).items_frame
    if "next_step" not in df.columns:
        return None
    steps = df.loc[df["item_id"] == item_id, "next_step"]
    return rule_of(str(steps.iloc[0])) if len(steps) else None


def review_list(settings: Settings, ledger: Ledger, scan: str = "latest") -> list[ReviewLine]:
    """Every decision's state against ``scan`` (as the report shows them), then the
    withdrawn ones, as history."""
    lines = build_report_data(settings, ledger, scan).reviews
    with ledger.engine.connect() as conn:
        gone = conn.execute(select(review_decisions).where(
            review_decisions.c.withdrawn_at.is_not(None))
            .order_by(review_decisions.c.withdrawn_at)).all()
    return lines + [ReviewLine(
        r.item_id, "", r.kind, "withdrawn",
        f"withdrawn by {r.withdrawn_by} {r.withdrawn_at[:16].replace('T', ' ')}",
        r.decided_by, r.decided_at[:16].replace("T", " ")) for r in gone]
