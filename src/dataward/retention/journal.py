"""The crash journal: what a run was about to do to which files, one file per plan.

Before a batch of moves or deletions, one ``intend`` line per item is written and
fsynced; after each finishes a ``done`` line follows. A run that dies leaves intents
without their ``done``; the next run reconciles exactly those items against the file
system before doing anything else. Lines hold plan ids and item numbers only.

Each plan has its own file (``journal/<plan>.jsonl``), so an intent that cannot be
reconciled (its folder was swapped for a symlink) holds up that plan only, never the
others; ``abandon`` closes such intents when a person has decided what to do
(``dataward retention abandon PLAN --by NAME``, audited). An older dataward's single
``journal.jsonl`` is split into the plans' files the first time it is opened.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pending:
    op: str  # "move", "restore", "purge"
    plan_id: str
    item_no: int


_SAFE_PLAN = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


def _read(path: Path) -> list[Pending]:
    """Intents with no ``done``, oldest first. A torn last line is ignored."""
    if not path.exists():
        return []
    open_: dict[tuple[str, str, int], None] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            r = json.loads(line)
            key = (r["op"], r["plan"], int(r["item"]))
        except (ValueError, KeyError, TypeError):
            continue
        if r.get("state") == "intend":
            open_[key] = None
        else:  # done, or abandoned by a person
            open_.pop(key, None)
    return [Pending(*k) for k in open_]


class Journal:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.dir = state_dir / "journal"
        self.dir.mkdir(exist_ok=True, mode=0o700)
        self.legacy = state_dir / "journal.jsonl"
        self._migrate_legacy()

    def path_for(self, plan_id: str) -> Path:
        if not _SAFE_PLAN.match(plan_id):
            raise ValueError("not a plan id")
        return self.dir / f"{plan_id}.jsonl"

    def _append(self, state: str, op: str, items: Iterable[tuple[str, int]], *, sync: bool) -> None:
        by_plan: dict[str, list[int]] = {}
        for p, n in items:
            by_plan.setdefault(p, []).append(n)
        for plan_id, nos in by_plan.items():
            data = "".join(json.dumps({"op": op, "plan": plan_id, "item": n, "state": state},
                                      sort_keys=True) + "\n" for n in nos).encode()
            fd = os.open(self.path_for(plan_id), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)

    def intend(self, op: str, items: list[tuple[str, int]]) -> None:
        """Record, durably, that ``op`` is about to run on these (plan, item) pairs."""
        self._append("intend", op, items, sync=True)

    def done(self, op: str, items: list[tuple[str, int]]) -> None:
        self._append("done", op, items, sync=False)

    def abandon(self, plan_id: str) -> list[Pending]:
        """Close every open intent of one plan without doing it; returns what was open."""
        pending = self.pending(plan_id)
        self._append_each("abandoned", pending)
        return pending

    def _append_each(self, state: str, pending: list[Pending]) -> None:
        for op in dict.fromkeys(p.op for p in pending):
            self._append(state, op, [(p.plan_id, p.item_no) for p in pending if p.op == op],
                         sync=True)

    def pending(self, plan_id: str | None = None) -> list[Pending]:
        """Open intents (of one plan, or of all), each plan's oldest first."""
        files = sorted(self.dir.glob("*.jsonl")) if plan_id is None else [self.path_for(plan_id)]
        return [p for f in files for p in _read(f)]

    def plans(self) -> list[str]:
        """Plans with open intents."""
        return list(dict.fromkeys(p.plan_id for p in self.pending()))

    def clear_if_settled(self) -> None:
        """Remove each plan's journal once nothing in it is open."""
        for f in self.dir.glob("*.jsonl"):
            if not _read(f):
                f.unlink(missing_ok=True)

    def _migrate_legacy(self) -> None:
        """Move an older dataward's open intents into the plans' own files."""
        if not self.legacy.exists():
            return
        self._append_each("intend", _read(self.legacy))
        self.legacy.unlink()
