"""The DPO's review decisions (``dataward review``) read back against a scan.

A decision names an item by its report id at the time (a keyed hash of its locator) and
keeps the file's inode, size, mtime and content hash, never its path. Against a later scan
the item is found again by, in order: the same id (same place); the same inode with the
same size and mtime or the same content (renamed or moved on the same file system); the
same content hash (copied elsewhere, or moved across file systems); the content a
finished ``dataward remediate`` rename left (the old name written into the image). So a
decision follows the file across renames and moves.

What a decision means in a scan (``review_states``):
- ``false-positive`` (one finding): that finding no longer counts; an item whose every
  finding is a false positive is not open;
- ``accepted`` until its expiry date; after it the item is open again;
- ``to-fix`` with an owner: open until fixed;
- fixed: a scan later than the decision no longer finds personal data in the item (or
  no longer finds the item at all), or no longer finds the problem the decision was
  about (the report's next-step rule when it was made: special-category data where
  pupils can open it, a pupil's name in an image's name, past its retention date).
A withdrawn decision (``dataward review withdraw``) no longer counts at all.

Read by plain SQL (like report_extras), so the report does not depend on the review job.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..ledger import Ledger
from .outputs import FINDINGS_FILE
from .report_extras import optional_rows
from .report_rules import rule_of, rule_when

KINDS = ("accepted", "to-fix", "false-positive")


@dataclass(frozen=True)
class Decision:
    decision_id: int
    decided_at: str
    decided_by: str
    kind: str
    item_id: str
    scan_id: str
    source: str
    inode: int | None
    size: int | None
    mtime_ns: int | None
    sha256: str
    reason: str
    owner: str
    expires: str | None
    entity_type: str | None
    fingerprint: str | None
    problem: str | None = None     # report_rules id of the item's next step when decided


@dataclass(frozen=True)
class ReviewLine:
    item_id: str           # the item's id in this scan (or at the decision, if gone)
    shown: str
    kind: str
    state: str
    note: str
    decided_by: str
    decided_at: str


@dataclass(frozen=True)
class ReviewState:
    """Where one decision stands in one scan."""
    decision: Decision
    state: str                 # open | to-fix | accepted | expired | fixed | false-positive
    row: int | None            # index into the scan's items frame; None: not found
    note: str = ""


def load_decisions(ledger: Ledger) -> list[Decision]:
    rows = optional_rows(ledger, "review_decisions",
                         "SELECT decision_id, decided_at, decided_by, kind, item_id, scan_id, source, "
                         "inode, size, mtime_ns, sha256, reason, owner, expires, entity_type, "
                         "fingerprint, problem FROM review_decisions WHERE withdrawn_at IS NULL "
                         "ORDER BY decided_at, decision_id")
    return [Decision(*r) for r in rows or []]


class ItemFinder:
    """Finds a decision's item among a scan's rows (needs columns item_id, inode, size,
    mtime_ns, sha256)."""

    def __init__(self, df: pd.DataFrame, successors: dict[str, str] | None = None) -> None:
        self.df = df
        self.successors = successors or {}   # content hash -> the content dataward gave it
        self.by_id = {v: i for i, v in zip(df.index, df["item_id"])}
        self.by_inode: dict[int, list[int]] = {}
        for i, ino in zip(df.index, df["inode"]):
            if ino:
                self.by_inode.setdefault(int(ino), []).append(i)
        self.by_sha: dict[str, int] = {}
        for i, sha in zip(df.index, df["sha256"]):
            if sha:
                self.by_sha.setdefault(str(sha), i)

    def find(self, d: Decision) -> int | None:
        if d.item_id in self.by_id:
            return int(self.by_id[d.item_id])
        for i in self.by_inode.get(int(d.inode or 0), []):
            r = self.df.loc[i]
            same_content = bool(d.sha256) and r["sha256"] == d.sha256
            same_stat = int(r["size"] or -1) == d.size and int(r["mtime_ns"] or -1) == d.mtime_ns
            if same_content or same_stat:
                return i
        found = self.by_sha.get(d.sha256) if d.sha256 else None
        if found is None and d.sha256 in self.successors:   # renamed with its name kept inside
            found = self.by_sha.get(self.successors[d.sha256])
        return None if found is None else int(found)


@dataclass(frozen=True)
class ReviewView:
    states: dict[int, ReviewState]     # decision id -> its state in this scan
    status: dict[int, str]   # row -> open | to-fix | accepted | false-positive | fixed

    def counts(self) -> dict[str, int]:
        out = {"open": 0, "to-fix": 0, "accepted": 0, "false-positive": 0,
               "fixed": sum(1 for s in self.states.values() if s.state == "fixed"),
               "expired": sum(1 for s in self.states.values() if s.state == "expired")}
        for st in self.status.values():
            if st != "fixed":            # counted once, from the decision's state
                out[st] += 1
        return out


def successors(ledger: Ledger) -> dict[str, str]:
    """Content hash -> the content a finished remediation left (a rename that wrote the
    old name into the image's metadata), so a decision follows the file through it."""
    rows = optional_rows(ledger, "remediation_items",
                         "SELECT sha256, new_sha256 FROM remediation_items WHERE state = 'done' "
                         "AND new_sha256 <> '' AND new_sha256 <> sha256")
    return {a: b for a, b in rows or []}


def review_states(decisions: list[Decision], df: pd.DataFrame, scan_started: str,
                  finding_keys: Callable[[list[str]], dict[str, set[tuple[str, str]]]],
                  today: date | None = None, followed: dict[str, str] | None = None,
                  ) -> ReviewView:
    """The state of the newest accepted/to-fix decision of each item and of every
    false-positive decision, and the review status of every row holding personal data.
    ``finding_keys(locators)``: locator -> the (entity type, fingerprint) of each of its
    findings (asked only for items with a false-positive decision)."""
    today_s = (today or date.today()).isoformat()
    finder = ItemFinder(df, followed)
    located = {d.decision_id: finder.find(d) for d in decisions}
    false_pos: dict[int, set[tuple[str, str]]] = {}
    for d in decisions:
        row = located[d.decision_id]
        if d.kind == "false-positive" and row is not None:
            false_pos.setdefault(row, set()).add((d.entity_type or "", d.fingerprint or ""))
    keys_of = finding_keys([str(df.at[r, "locator"]) for r in false_pos]) if false_pos else {}

    def open_findings(row: int) -> bool:
        if int(df.at[row, "n_findings"]) == 0:
            return False
        keys = keys_of.get(str(df.at[row, "locator"]), set())
        return not keys or bool(keys - false_pos.get(row, set()))

    states: dict[int, ReviewState] = {}
    newest: dict[object, Decision] = {}
    for d in decisions:
        row = located[d.decision_id]
        if d.kind == "false-positive":
            states[d.decision_id] = ReviewState(d, "false-positive", row)
        else:  # decisions come oldest first: the newest one of an item wins
            newest[row if row is not None else ("gone", d.item_id)] = d
    status: dict[int, str] = {}
    for i, n in zip(df.index, df["n_findings"]):
        if n:
            status[i] = "open" if open_findings(i) else "false-positive"
    for d in newest.values():
        row = located[d.decision_id]
        later = scan_started > d.decided_at
        if (row is not None and later and d.problem and "next_step" in df.columns
                and rule_of(str(df.at[row, "next_step"])) != d.problem):
            # The problem the decision was about is gone (moved out of the pupils' area,
            # renamed): fixed, though the item may still hold personal data.
            states[d.decision_id] = ReviewState(
                d, "fixed", row, f"fixed: no longer {rule_when(d.problem)}")
            status[row] = "fixed"
            continue
        if row is None or not open_findings(row):
            if later or row is None:
                note = "no longer found" if row is None else "no personal data found any more"
                states[d.decision_id] = ReviewState(d, "fixed", row, note)
            else:
                states[d.decision_id] = ReviewState(d, "open", row)
        elif d.kind == "accepted":
            expired = bool(d.expires) and str(d.expires) < today_s
            states[d.decision_id] = ReviewState(
                d, "expired" if expired else "accepted", row,
                f"accepted until {d.expires}" + (" (expired)" if expired else ""))
            status[row] = "open" if expired else "accepted"
        else:
            states[d.decision_id] = ReviewState(d, "to-fix", row, f"owner: {d.owner}")
            status[row] = "to-fix"
    return ReviewView(states, status)


def finding_keys(scan_dir: Path) -> Callable[[list[str]], dict[str, set[tuple[str, str]]]]:
    def read(locators: list[str]) -> dict[str, set[tuple[str, str]]]:
        if not (scan_dir / FINDINGS_FILE).exists():
            return {}
        t = pq.read_table(scan_dir / FINDINGS_FILE,
                          columns=["locator", "entity_type", "fingerprint"])
        t = t.filter(pc.is_in(t["locator"], value_set=pa.array(locators)))
        out: dict[str, set[tuple[str, str]]] = {}
        for loc, e, fp in zip(*(t[c].to_pylist() for c in ("locator", "entity_type", "fingerprint"))):
            out.setdefault(loc, set()).add((e, fp or ""))
        return out
    return read


def add_review(df: pd.DataFrame, ledger: Ledger, scan_dir: Path, started: str) -> ReviewView:
    """Adds the ``review`` column (open | to-fix | accepted | false-positive)."""
    view = review_states(load_decisions(ledger), df, started, finding_keys(scan_dir),
                         followed=successors(ledger))
    df["review"] = [view.status.get(i, "") for i in df.index]
    return view


def review_lines(view: ReviewView, df: pd.DataFrame) -> list[ReviewLine]:
    order = {"expired": 0, "to-fix": 1, "open": 2, "accepted": 3, "fixed": 4, "false-positive": 5}
    lines = []
    for st in sorted(view.states.values(), key=lambda s: (order[s.state], s.decision.decided_at)):
        d = st.decision
        if st.row is not None:
            ident, shown = df.at[st.row, "item_id"], df.at[st.row, "shown"]
        else:
            ident, shown = d.item_id, "(no longer found)"
        note = st.note or (f"{d.entity_type} finding" if d.kind == "false-positive" else "")
        lines.append(ReviewLine(ident, shown, d.kind, st.state, note, d.decided_by,
                                d.decided_at[:16].replace("T", " ")))
    return lines
