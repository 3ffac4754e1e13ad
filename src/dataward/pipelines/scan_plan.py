"""Before a scan reads anything: which sources can be seen tonight, and how much of each
source's last results may be kept (see ``scan_basis``); after it: what the scan records
about each source, and the reasons ``dataward scans`` shows.

A configured scan's catalog always holds every configured source. A source the scan
could not see (missing, not a folder, unreadable, not mounted, or suddenly almost empty)
or was not asked to scan (``--source``) keeps its last results, unchanged, and nothing of
it counts as removed.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..classifiers.name_index import NameQuery, index_key
from ..connectors.filesystem import source_problem
from .outputs import NAME_INDEX_FILE
from .scan_basis import (
    RosterChange,
    SourcePlan,
    basis_for,
    load_roster_record,
    plan_source,
    plural,
    roster_change,
    roster_record,
    save_roster_record,
)

if TYPE_CHECKING:
    from ..connectors.roster import Roster
    from ..settings import Settings, Source
    from .scan_previous import Previous as _Previous

EXPECTS_FOLDER = ("share", "eml", "msg")


@dataclass
class ScanPlan:
    scanned: dict[str, SourcePlan] = field(default_factory=dict)
    bases: dict[str, dict[str, Any]] = field(default_factory=dict)    # scanned source -> basis
    old_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    carry: set[str] = field(default_factory=set)          # last results kept as they are
    unavailable: dict[str, str] = field(default_factory=dict)
    not_asked: set[str] = field(default_factory=set)      # configured, not in this run
    no_reuse: set[str] = field(default_factory=set)       # sources read again whole
    recheck: set[str] = field(default_factory=set)        # top-level locators to read again
    rescore: dict[str, tuple[str, str]] = field(default_factory=dict)
    full: bool = False
    vanish: tuple[int, float] = (1000, 0.1)
    accept_removals: bool = False
    previous_top: Counter[str] = field(default_factory=Counter)   # source -> top-level items
    risk_digest: str = ""                                      # of tonight's risk settings

    def vanished(self, name: str, found: int) -> str | None:
        """The reason a source that suddenly holds almost nothing is unavailable, or None."""
        before = self.previous_top.get(name, 0)
        least, fraction = self.vanish
        if self.accept_removals or before < least or found >= before * fraction:
            return None
        return (f"it holds {found:,} files where the last scan found {before:,} (less than "
                f"scan.vanish_fraction = {fraction:g} of them); if they really were removed, "
                f"run `dataward scan --source {name} --accept-removals`")

    def mark_unavailable(self, name: str, reason: str) -> None:
        self.unavailable[name] = reason
        self.carry.add(name)
        self.scanned.pop(name, None)
        self.bases.pop(name, None)


def prepare(settings: Settings, sources: list[Source], roster: Roster, key: bytes,
            previous: _Previous, old_summary: dict[str, Any], *, full: bool, adhoc: bool,
            accept_removals: bool, scan_id: str = "") -> ScanPlan:
    plan = ScanPlan(full=full, accept_removals=accept_removals,
                    vanish=(settings.scan.vanish_min_items, settings.scan.vanish_fraction))
    plan.old_records = dict(old_summary.get("sources") or {})
    plan.previous_top = previous.top_counts()
    record = roster_record(roster, key)
    plan.risk_digest = basis_for(settings, "", "")["risk"]
    for source in sources:
        problem = source_problem(source, expect_dir=source.kind in EXPECTS_FOLDER and not adhoc)
        if problem:
            plan.mark_unavailable(source.name, problem)
            continue
        new = basis_for(settings, record.digest, source.audience)
        if source.kind == "smb":  # who is in which group decides an SMB item's audience
            from .smb_item import groups_digest
            new["groups"] = groups_digest(settings, scan_id)
        old = (plan.old_records.get(source.name) or {}).get("basis")
        sp = plan_source(source.name, old, new, plan.previous_top.get(source.name, 0) > 0)
        if full:
            sp.reread = "--full"
        elif old is not None and sp.reread is None and old.get("roster") != new["roster"]:
            old_roster = load_roster_record(settings.home, old["roster"])
            if old_roster is None:
                sp.reread = "roster changed, and the record of the last roster is missing"
            else:
                sp.roster = roster_change(roster, key, old_roster, record)
        plan.scanned[source.name] = sp
        plan.bases[source.name] = new
        if sp.reread is not None:
            plan.no_reuse.add(source.name)
        elif sp.rescore and old is not None:
            plan.rescore[source.name] = (old.get("audience", ""), source.audience)
    if not adhoc:
        save_roster_record(settings.home, record)
        asked = {s.name for s in sources}
        plan.not_asked = {s.name for s in settings.sources if s.name not in asked}
        plan.carry |= plan.not_asked
        for s in settings.sources:  # kept results weighed with tonight's risk settings
            old = (plan.old_records.get(s.name) or {}).get("basis")
            if (s.name in plan.carry and old is not None
                    and (old.get("risk"), old.get("audience")) != (plan.risk_digest, s.audience)):
                plan.rescore[s.name] = (old.get("audience", ""), s.audience)
    for name, sp in plan.scanned.items():
        if sp.roster is not None:
            plan.recheck |= roster_candidates(previous, name, sp.roster, key)
    return plan


def roster_candidates(previous: _Previous, source: str, change: RosterChange, key: bytes) -> set[str]:
    """Top-level locators of ``source`` that may hold a name added to the roster (the name
    index says maybe) or that held a name now gone from it."""
    from .scan_previous import top_locator
    if previous.items is None:
        return set()
    rows = [i for i, s in enumerate(previous.sources) if s == source]
    out: set[str] = set()
    if change.new_names and rows:
        filters = previous.name_filters()
        status = previous.items["status"].to_pylist()
        candidates = [filters.get(previous.locators[i]) if status[i] == "ok" else b"" for i in rows]
        hits = NameQuery(index_key(key), change.new_names).matches(candidates)
        out |= {top_locator(previous.locators[i]) for i, hit in zip(rows, hits) if hit}
    if change.gone_people and previous.findings_path is not None and previous.findings_path.exists():
        t = pq.read_table(previous.findings_path, columns=["locator", "entity_type", "fingerprint"],
                          filters=[("fingerprint", "in", sorted(change.gone_people))])
        t = t.filter(pc.equal(t["entity_type"], "PERSON"))
        mine = {previous.locators[i] for i in rows}
        out |= {top_locator(loc) for loc in t["locator"].to_pylist() if loc in mine}
    return out


def read_name_filters(scan_dir: Path) -> dict[str, bytes]:
    path = scan_dir / NAME_INDEX_FILE
    if not path.exists():
        return {}
    t = pq.read_table(path)
    return dict(zip(t["locator"].to_pylist(), t["tokens"].to_pylist()))


def record(plan: ScanPlan, read_top: Counter[str], rechecked: Counter[str], kept: Counter[str],
           scan_id: str) -> tuple[dict[str, Any], list[str]]:
    """(what the scan records about each source, the reasons it read what it did)."""
    sources: dict[str, Any] = {}
    reasons: list[str] = []
    for name, sp in plan.scanned.items():
        n = read_top.get(name, 0)
        sources[name] = {"state": "scanned", "scan_id": scan_id, "basis": plan.bases[name]}
        if sp.reread == "--full":
            reasons.append(f"{name}: --full -> {plural(n, 'file')} read again")
        elif sp.reread:
            reasons.append(f"{name}: {sp.reread} -> {plural(n, 'file')} re-read")
        elif plan.previous_top.get(name, 0) == 0:
            reasons.append(f"{name}: first scan -> {plural(n, 'file')} read")
        else:
            k = rechecked.get(name, 0)
            if sp.roster is not None:
                reasons.append(f"{name}: roster changed: {sp.roster.describe()} -> "
                               f"{plural(k, 'file')} re-checked")
            if sp.rescore:
                reasons.append(f"{name}: risk settings or audience changed -> risk recomputed "
                               f"for {plural(kept.get(name, 0), 'unchanged file')}, none read for it")
            if n - k or not (sp.roster or sp.rescore):
                reasons.append(f"{name}: {plural(n - k, 'new or changed file')} read, "
                               f"{kept.get(name, 0):,} unchanged kept")
    for name in sorted(plan.carry):
        old = dict(plan.old_records.get(name) or {})
        if old.get("basis") and name in plan.rescore:
            old["basis"] = {**old["basis"], "risk": plan.risk_digest,
                            "audience": plan.rescore[name][1]}
        if name in plan.unavailable:
            old.update(state="unavailable", reason=plan.unavailable[name])
            reasons.append(f"{name}: could not be read ({plan.unavailable[name]}); "
                           f"its last results are kept and nothing counts as removed")
        else:
            old.update(state="kept")
            reasons.append(f"{name}: not in this run; its last results are kept")
        sources[name] = old
    return sources, reasons
