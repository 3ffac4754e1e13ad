"""Retention policy as a pure function: which snapshots to keep, and why.

Semantics follow restic's ``forget``: snapshots are taken newest first; ``keep_daily=7``
keeps the newest snapshot of each of the last 7 days that *have* snapshots (not the last
7 calendar days); weekly buckets are ISO weeks; ``keep_last`` keeps the newest N. A
snapshot kept by several rules lists every reason. A policy that keeps nothing at all
keeps everything: an empty policy never empties a repository.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Policy:
    keep_last: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_yearly: int = 0

    @property
    def empty(self) -> bool:
        return not any((self.keep_last, self.keep_daily, self.keep_weekly, self.keep_monthly,
                        self.keep_yearly))


@dataclass(frozen=True)
class Snap:
    id: str
    time: datetime


@dataclass(frozen=True)
class Decision:
    keep: list[tuple[Snap, tuple[str, ...]]]
    remove: list[Snap]


_RULES: list[tuple[str, str, Callable[[datetime], object]]] = [
    ("keep_last", "last", lambda t: t),
    ("keep_daily", "daily", lambda t: t.date()),
    ("keep_weekly", "weekly", lambda t: t.isocalendar()[:2]),
    ("keep_monthly", "monthly", lambda t: (t.year, t.month)),
    ("keep_yearly", "yearly", lambda t: t.year),
]


def apply_policy(snapshots: Sequence[Snap], policy: Policy) -> Decision:
    ordered = sorted(snapshots, key=lambda s: (s.time, s.id), reverse=True)
    if policy.empty:
        return Decision([(s, ("no retention policy: keep everything",)) for s in ordered], [])
    reasons: dict[str, list[str]] = {s.id: [] for s in ordered}
    for attr, label, bucket_of in _RULES:
        left = getattr(policy, attr)
        last_bucket: object = None
        for s in ordered:
            if left <= 0:
                break
            bucket = s.id if attr == "keep_last" else bucket_of(s.time)
            if bucket != last_bucket:
                reasons[s.id].append(f"{label} snapshot" if attr != "keep_last"
                                     else "one of the newest")
                last_bucket = bucket
                left -= 1
    keep = [(s, tuple(reasons[s.id])) for s in ordered if reasons[s.id]]
    remove = [s for s in ordered if not reasons[s.id]]
    return Decision(keep, remove)
