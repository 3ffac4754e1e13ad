"""The crash journal: what a run was about to do to which files.

Before a batch of moves or deletions, one ``intend`` line per item is written and
fsynced; after each finishes a ``done`` line follows. A run that dies leaves intents
without their ``done``; the next run reconciles exactly those items against the file
system before doing anything else. Lines hold plan ids and item numbers only.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pending:
    op: str  # "move", "restore", "purge"
    plan_id: str
    item_no: int


class Journal:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = state_dir / "journal.jsonl"

    def _append(self, records: list[dict[str, object]], *, sync: bool) -> None:
        if not records:
            return
        data = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def intend(self, op: str, items: list[tuple[str, int]]) -> None:
        """Record, durably, that ``op`` is about to run on these (plan, item) pairs."""
        self._append([{"op": op, "plan": p, "item": n, "state": "intend"} for p, n in items],
                     sync=True)

    def done(self, op: str, items: list[tuple[str, int]]) -> None:
        self._append([{"op": op, "plan": p, "item": n, "state": "done"} for p, n in items],
                     sync=False)

    def pending(self) -> list[Pending]:
        """Intents with no ``done``, oldest first. A torn last line is ignored."""
        if not self.path.exists():
            return []
        open_: dict[tuple[str, str, int], None] = {}
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                r = json.loads(line)
                key = (r["op"], r["plan"], int(r["item"]))
            except (ValueError, KeyError, TypeError):
                continue
            if r.get("state") == "intend":
                open_[key] = None
            else:
                open_.pop(key, None)
        return [Pending(*k) for k in open_]

    def clear_if_settled(self) -> None:
        """Start a fresh journal once nothing in it is pending."""
        if self.path.exists() and not self.pending():
            self.path.unlink()
