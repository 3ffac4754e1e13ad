"""What a trust scan reports back, part by part and school by school: counts, ids and
reasons, never values. Light on purpose: the flow's process unpickles these from the
workers without loading the scan stack (Presidio, the extractors)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .config import Trust


@dataclass(frozen=True)
class PartSummary:
    """What one part's scan reports back: counts and ids, never values."""

    school_id: str
    part: str
    share: str
    scan_id: str
    status: str                     # complete | partial
    out_dir: str
    items: int
    items_with_findings: int
    findings: int
    errors: int
    read: int
    reused: int
    seconds: float                  # the scan's own clock (reading, classifying, writing)
    call_seconds: float             # the whole scan call: its ledger rows and audit too
    worker: str
    unavailable: dict[str, str] = field(default_factory=dict)
    # CPU the scan call's thread used in the worker process, and its item readers (child
    # processes) used: what a part costs in cores, beside Dask's and Prefect's threads.
    call_cpu: float = 0.0
    reader_cpu: float = 0.0
    write_seconds: float = 0.0      # writing the part's rows into the trust's dataset
    # The worker had loaded the scan stack before taking work (``--preload
    # dataward.flows.trust_worker``); without it each new worker's first part pays for it.
    preloaded: bool = False


@dataclass(frozen=True)
class SchoolOutcome:
    school_id: str
    status: str                     # complete | partial | failed
    parts: int
    items: int
    findings: int
    unavailable: dict[str, str]     # part -> why it could not be read
    failed: dict[str, str]          # part -> why its scan failed


def by_school(trust: Trust, done: list[PartSummary],
              failed: dict[tuple[str, str], str]) -> list[SchoolOutcome]:
    """Each school's outcome from its parts' summaries and failures."""
    out = []
    for school in trust.schools:
        mine = [p for p in done if p.school_id == school.id]
        bad = {part: why for (sid, part), why in failed.items() if sid == school.id}
        unavailable = {n: why for p in mine for n, why in p.unavailable.items()}
        status = "failed" if bad and not mine else (
            "partial" if bad or unavailable or any(p.status != "complete" for p in mine)
            else "complete")
        out.append(SchoolOutcome(school.id, status, len(mine) + len(bad),
                                 sum(p.items for p in mine), sum(p.findings for p in mine),
                                 unavailable, bad))
    return out
