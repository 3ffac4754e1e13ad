"""The scan: walk every source, reuse what has not changed since the last scan, read and
classify the rest, and write items.parquet and findings.parquet.

Incremental by default: an item whose (size, mtime, inode) matches the last complete scan
keeps that scan's result without being read; a file moved or renamed within the share
(same inode, size and mtime under a new path) keeps it too, unless its old or new path
names someone on the roster (then its path-name findings change: it is read again). ``full=True`` reads everything.
A result is kept only while everything that decided it is unchanged (``scan_basis``); a
source that cannot be seen, or that the scan was not asked for, keeps its last results
(``scan_plan``): every configured scan's catalog holds every configured source.
Outputs are written into a hidden folder and renamed into place at the end, so an
interrupted scan (Ctrl-C, a crash) leaves the previous scan as the newest complete one.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import insert, update

from ..connectors.filesystem import FileEntry, walk
from ..connectors.roster import Roster, load_roster
from ..connectors.smb import SmbEntry, client_for, walk_smb
from ..errors import ConfigError
from ..home import ensure_home, fingerprint_key
from ..ledger import Ledger, utcnow
from ..schema import scans_table
from ..settings import Settings, Source
from .outputs import (FINDINGS_FILE, ITEMS_FILE, ITEMS_SCHEMA, NAME_INDEX_FILE,
                      NAME_INDEX_SCHEMA, FindingsWriter, TableRow, write_table)
from .scan_basis import rescore
from .scan_plan import ScanPlan, prepare
from .scan_plan import record as plan_record
from .mail_append import scan_appended_mbox
from .item_row import ItemRow
from .item_row import items_table as rows_table
from .item_context import ItemContext, ItemOutcome
from .scan_previous import Previous, carry_over, change_of, reusable
from .scan_previous import top_locator as top_locator  # re-exported: sar/ and cli/ use it
from ..classifiers.path_names import RosterPaths
from .scan_recovery import hold, reap_interrupted, work_dir_for
from .workers import ItemPool, Task

if TYPE_CHECKING:
    from ..classifiers.engine import Classifier

log = logging.getLogger("dataward.scan")


@dataclass(frozen=True)
class ScanProgress:
    phase: str          # walking | reading
    done: int
    total: int
    bytes_done: int


@dataclass
class ScanResult:
    scan_id: str
    out_dir: Path
    status: str                      # complete | partial (some items failed)
    items: int = 0
    items_with_findings: int = 0
    findings: int = 0
    errors: int = 0
    read: int = 0
    reused: int = 0
    new: int = 0
    changed: int = 0
    moved: int = 0
    removed: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)
    by_entity: dict[str, int] = field(default_factory=dict)
    kept: int = 0                    # items of sources not read tonight, kept as they were
    rechecked: int = 0               # unchanged files read again for names new on the roster
    unavailable: dict[str, str] = field(default_factory=dict)   # source -> why
    reasons: list[str] = field(default_factory=list)            # why it read what it did
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)      # what decided each source

    def summary(self) -> TableRow:
        d = {k: v for k, v in self.__dict__.items() if k != "out_dir"}
        d["out_dir"] = str(self.out_dir)
        return d


ProgressFn = Callable[[ScanProgress], None]


def new_scan_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def build_roster(settings: Settings, extra: list[Path] | None = None) -> Roster:
    roster = Roster()
    for spec in settings.rosters:
        roster.extend(load_roster(spec.path, spec.kind))
    for path in extra or []:
        roster.extend(load_roster(path, "pupils"))
    return roster


def make_classifier(settings: Settings, roster: Roster) -> Classifier:
    from ..classifiers.engine import Classifier
    return Classifier(fingerprint_key(settings, create=True), roster,
                      score_threshold=settings.scan.score_threshold,
                      ner_model=settings.scan.ner_model)


def adhoc_sources(paths: list[Path]) -> list[Source]:
    sources = []
    for i, p in enumerate(paths):
        if not p.exists() and not p.is_symlink():
            raise ConfigError(f"{p} does not exist")
        sources.append(Source(name=p.name or f"path{i + 1}", path=p.absolute(), audience="unknown"))
    return sources


def _latest_catalog(ledger: Ledger, names: set[str]) -> Any:
    """The newest complete configured scan of any of these sources (ad hoc scans are never
    the catalog). A trust scans a share in parts, each part a source of its own scanned
    on its own: each part's catalog is the newest scan that recorded it."""
    for row in ledger.scan_rows():
        if row.status in ("complete", "partial") and row.mode != "adhoc":
            recorded = set(json.loads(row.summary or "{}").get("sources", {}))
            if not recorded or recorded & names:
                return row
    return None


def run_scan(settings: Settings, *, sources: list[Source] | None = None,
             rosters: list[Path] | None = None, full: bool = False,
             out_dir: Path | None = None, progress: ProgressFn | None = None,
             ledger: Ledger | None = None, adhoc: bool = False,
             accept_removals: bool = False) -> ScanResult:
    """Scan ``sources`` (default: the configured ones) and write the two Parquet files.

    ``accept_removals``: a source that suddenly holds almost nothing is scanned as it is
    (its missing files count as removed) instead of being treated as unavailable."""
    sources = settings.sources if sources is None else sources
    if not sources:
        if settings.config_path is None:  # before `dataward init`: no config at all
            raise ConfigError("nothing to scan: no config file, so no sources",
                              hint="run `dataward init` to write a starter config and add your "
                                   "shares to it, or name paths: dataward scan PATH...")
        raise ConfigError(f"nothing to scan: the config {settings.config_path} has no sources",
                          hint="add sources to the config, or name paths: dataward scan PATH...")
    ensure_home(settings)
    own_ledger = ledger is None
    ledger = ledger or Ledger.for_settings(settings)
    reap_interrupted(ledger, settings.scans_dir)  # what a killed scan left behind
    scan_id = new_scan_id()
    final_dir = Path(out_dir) if out_dir else settings.scans_dir / scan_id
    work_dir = work_dir_for(final_dir, scan_id)
    work_dir.mkdir(parents=True, mode=0o700)
    lock_fd = hold(work_dir)  # held until this process ends: tells a live scan from a dead one
    mode = "adhoc" if adhoc else ("full" if full else "incremental")
    started = time.perf_counter()
    with ledger.begin() as conn:
        conn.execute(insert(scans_table).values(scan_id=scan_id, started=utcnow(), status="running",
                                                mode=mode, out_dir=str(final_dir),
                                                school_id=ledger.school_id))
    try:
        roster = build_roster(settings, rosters)
        # A factory (it pickles): the Classifier is built where items are read.
        ctx = ItemContext(settings, partial(make_classifier, settings, roster), scan_id,
                          spool_dir=work_dir / "spool")
        with ItemPool(ctx) as pool:
            pool.start_host()  # if workers come from a host, it starts while the scan plans
            last = None if adhoc else _latest_catalog(
                ledger, {s.name for s in settings.sources} | {s.name for s in sources})
            previous = Previous(Path(last.out_dir) if last is not None else None)
            plan = prepare(settings, sources, roster, fingerprint_key(settings, create=True),
                           previous, json.loads(last.summary or "{}") if last is not None else {},
                           full=full, adhoc=adhoc, accept_removals=accept_removals,
                           scan_id=ctx.scan_id)
            result = _scan_into(work_dir, sources, pool, previous, progress, plan,
                                RosterPaths(roster))
        result.scan_id = scan_id
        if final_dir.exists():
            for name in (ITEMS_FILE, FINDINGS_FILE, NAME_INDEX_FILE):
                (final_dir / name).unlink(missing_ok=True)
        final_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name in (ITEMS_FILE, FINDINGS_FILE, NAME_INDEX_FILE):
            (work_dir / name).replace(final_dir / name)
    except BaseException as exc:
        shutil.rmtree(work_dir, ignore_errors=True)
        os.close(lock_fd)
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        with ledger.begin() as conn:
            conn.execute(update(scans_table).where(scans_table.c.scan_id == scan_id,
                                                   scans_table.c.school_id == ledger.school_id)
                         .values(status=status, finished=utcnow()))
            ledger.audit(f"scan.{status}", scan_id, conn=conn, reason=type(exc).__name__)
        if own_ledger:
            ledger.close()
        raise
    result.out_dir = final_dir
    result.seconds = round(time.perf_counter() - started, 3)
    result.status = "partial" if result.errors or result.unavailable else "complete"
    with ledger.begin() as conn:
        conn.execute(update(scans_table).where(scans_table.c.scan_id == scan_id,
                                               scans_table.c.school_id == ledger.school_id).values(
            status=result.status, finished=utcnow(), items=result.items,
            items_with_findings=result.items_with_findings, findings=result.findings,
            errors=result.errors, reused=result.reused, bytes_read=result.bytes_read,
            summary=json.dumps(result.summary())))
        ledger.audit("scan.complete", scan_id, conn=conn, mode=mode, items=result.items,
                     findings=result.findings, errors=result.errors, status=result.status,
                     unavailable=sorted(result.unavailable))
    work_dir.rmdir()  # only now: a running row always has its locked folder
    os.close(lock_fd)
    if own_ledger:
        ledger.close()
    log.info("scan %s %s: %d items, %d findings, %d errors, %.1fs", scan_id, result.status,
             result.items, result.findings, result.errors, result.seconds)
    return result


def _scan_into(work_dir: Path, sources: list[Source], pool: ItemPool, previous: Previous,
               progress: ProgressFn | None, plan: ScanPlan, named: RosterPaths) -> ScanResult:
    ctx = pool.ctx
    result = ScanResult(scan_id=ctx.scan_id, out_dir=work_dir, status="running")
    entries: list[tuple[FileEntry, Source]] = []
    for source in sources:
        if source.name in plan.unavailable:
            continue
        found: list[tuple[FileEntry, Source]] = []
        walker = (walk_smb(source, client_for(ctx.settings)) if source.kind == "smb"
                  else walk(source))
        for entry in walker:
            found.append((entry, source))
            if progress and (len(entries) + len(found)) % 5000 == 0:
                progress(ScanProgress("walking", len(entries) + len(found), 0, 0))
        if (source.kind == "smb" and len(found) == 1 and found[0][0].kind == "dir-error"
                and not found[0][0].rel):  # the share itself could not be opened
            plan.mark_unavailable(source.name, found[0][0].error)
            continue
        vanished = plan.vanished(source.name, len(found))
        if vanished:
            plan.mark_unavailable(source.name, vanished)
            continue
        entries.extend(found)
    total = len(entries)
    seen: set[str] = set()
    reuse_idx: list[int] = []          # rows of the previous items table to carry over
    reuse_moves: dict[int, FileEntry] = {}
    new_items: list[ItemRow] = []
    # Findings are written as items finish: a dense export's never sit in memory at once.
    findings_out = FindingsWriter(work_dir / FINDINGS_FILE)
    new_index: list[tuple[str, bytes]] = []
    to_read: list[Task] = []
    for entry, source in entries:
        locator = entry.locator
        seen.add(locator)
        idx = reusable(previous, entry, locator, source.name, plan)
        if idx is not None and previous.locators[idx] != locator and (
                previous.locators[idx] in previous.path_named()
                or named.names_someone(entry.rel)):
            idx = None  # moved from or to a path naming someone: its path findings change
        if idx is not None:
            reuse_idx.append(idx)
            members = previous.children_of.get(previous.locators[idx], [])
            reuse_idx.extend(members)
            if previous.locators[idx] != locator:
                reuse_moves[idx] = entry
                for m in members:
                    reuse_moves[m] = entry
        else:
            if isinstance(entry, SmbEntry):
                if entry.kind == "dir-error":  # unlistable: keep what it held, said by this row
                    reuse_idx.extend(previous.rows_under(entry.locator, seen))
                to_read.append(Task(entry, source.name, source.audience))
                continue
            appended = (None if source.name in plan.no_reuse or locator in plan.recheck else
                        scan_appended_mbox(previous, entry, source.name, source.audience, ctx))
            if appended is not None:  # an mbox that only grew: last scan's messages kept
                outcome, carried = appended
                reuse_idx.extend(carried)
                for part in outcome.flatten():
                    new_items.append(part.item)
                    _write_findings(findings_out, part)
                    if part.name_index is not None:
                        new_index.append((part.item.locator, part.name_index))
                result.bytes_read += outcome.bytes_read
                continue
            to_read.append(Task(entry, source.name, source.audience))
    # Sources not seen tonight, or not asked for, keep their last results as they are.
    kept_idx = [i for i, src in enumerate(previous.sources) if src in plan.carry]
    seen.update(previous.locators[i] for i in kept_idx)
    # Everything not reused is read in isolated worker processes (time and memory limits).
    done = total - len(to_read)
    read_top: Counter[str] = Counter()
    rechecked: Counter[str] = Counter()
    with pool:  # its workers (and host) end as soon as the items are read
        for _i, outcome in pool.run(to_read):
            change = change_of(previous, outcome.item)
            read_top[outcome.item.source] += 1
            if outcome.item.locator in plan.recheck and change == "unchanged":
                rechecked[outcome.item.source] += 1
            for part in outcome.flatten():
                part.item.change = change
                new_items.append(part.item)
                _write_findings(findings_out, part)
                if part.name_index is not None:
                    new_index.append((part.item.locator, part.name_index))
            result.bytes_read += outcome.bytes_read
            done += 1
            if progress:
                progress(ScanProgress("reading", done, total, result.bytes_read))

    items_table = rows_table(new_items)
    index_table = pa.table({"locator": [x for x, _ in new_index], "tokens": [y for _, y in new_index]},
                           schema=NAME_INDEX_SCHEMA)
    if (reuse_idx or kept_idx) and previous.items is not None:
        carried, carried_findings, carried_index = carry_over(
            previous, reuse_idx + kept_idx, reuse_moves, ctx.scan_id)
        carried = rescore(carried, ctx.settings, plan.rescore)
        items_table = pa.concat_tables([carried, items_table])
        findings_out.write(carried_findings)
        index_table = pa.concat_tables([carried_index, index_table])
    write_table(items_table, ITEMS_SCHEMA, work_dir / ITEMS_FILE)
    findings_out.close()
    shutil.rmtree(work_dir / "spool", ignore_errors=True)  # spools of items that failed
    write_table(index_table, NAME_INDEX_SCHEMA, work_dir / NAME_INDEX_FILE)

    result.items = items_table.num_rows
    result.findings = findings_out.rows
    result.reused = len(reuse_idx)
    result.kept = len(kept_idx)
    result.read = len(new_items)
    result.rechecked = sum(rechecked.values())
    changes = pc.value_counts(items_table["change"]).to_pylist()
    by_change = {c["values"]: c["counts"] for c in changes}
    result.new, result.changed = by_change.get("new", 0), by_change.get("changed", 0)
    result.moved = by_change.get("moved", 0)
    if previous.items is not None:
        # Only sources seen tonight can have removed files.
        moved_from = {previous.locators[i] for i in reuse_moves}
        looked = set(plan.scanned)
        result.removed = sum(1 for loc, src in zip(previous.locators, previous.sources)
                             if src in looked and loc not in seen and loc not in moved_from
                             and top_locator(loc) == loc)
    statuses = pc.value_counts(items_table["status"]).to_pylist()
    result.by_status = {s["values"]: s["counts"] for s in statuses}
    result.errors = result.by_status.get("error", 0)
    result.items_with_findings = pc.sum(pc.greater(items_table["n_findings"], 0)).as_py() or 0
    result.by_entity = dict(findings_out.by_entity)
    kept = Counter(previous.sources[i] for i in reuse_idx + kept_idx
                   if top_locator(previous.locators[i]) == previous.locators[i])
    result.unavailable = dict(plan.unavailable)
    result.sources, result.reasons = plan_record(plan, read_top, rechecked, kept, ctx.scan_id)
    return result


def _write_findings(out: FindingsWriter, part: ItemOutcome) -> None:
    out.write(part.findings)
    if part.findings_spool is not None:
        out.write_spool(part.findings_spool)
