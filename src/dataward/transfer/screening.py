"""The scan before packaging: dataward's classifiers run over the selected files, and
only the *counts* of what they found go on (into the manifest, the ledger and the audit
log). Packaging never depends on the result: every package is encrypted anyway.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import Settings


@dataclass(frozen=True)
class ScanSummary:
    status: str                                   # scanned | off
    entity_counts: dict[str, int] = field(default_factory=dict)
    # Items: the selected files and every item inside them (zip members, attachments,
    # mbox messages), each counted once.
    files_with_personal_data: int = 0
    files_not_readable: int = 0                   # encrypted, unsupported, error or skipped
    items: int = 0


def _scan_for_personal_data(paths: Iterable[Path], settings: Settings) -> ScanSummary:
    """Classify ``paths`` with the scan's own pipeline and limits; counts only."""
    from ..pipelines.classify import classify_files

    total: Counter[str] = Counter()
    with_pd = unreadable = n = 0
    for r in classify_files(list(paths), settings):
        n += 1
        total.update(r.counts)
        with_pd += r.has_personal_data
        # A container holding members is read through them; its own status says whether
        # its reading stopped short (a cap), which counts as not readable.
        unreadable += r.status != "ok"
    return ScanSummary("scanned", dict(sorted(total.items())), with_pd, unreadable, n)


def scan_selection(paths: Iterable[Path], settings: Settings) -> ScanSummary:
    if not settings.transfer.scan_before_packaging:
        return ScanSummary("off")
    return _scan_for_personal_data(paths, settings)
