"""The scan before packaging: dataward's classifiers run over the selected files, and
only the *counts* of what they found go on (into the manifest, the ledger and the audit
log). Packaging never depends on the result: every package is encrypted anyway.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import Settings


@dataclass(frozen=True)
class ScanSummary:
    status: str                                   # scanned | unavailable | off
    entity_counts: dict[str, int] = field(default_factory=dict)
    files_with_personal_data: int = 0
    files_not_readable: int = 0                   # encrypted, unsupported or error


def _counts_of(result: Any) -> dict[str, int]:
    raw = getattr(result, "counts", None)
    if raw is None:
        raw = getattr(result, "entity_counts", None)
    if raw is None and isinstance(result, dict):
        raw = result.get("counts") or result.get("entity_counts")
    return {str(k): int(v) for k, v in dict(raw or {}).items() if v}


def _scan_for_personal_data(paths: Iterable[Path], settings: Settings) -> ScanSummary:
    """Classify ``paths`` with dataward's classifiers; counts only, never values."""
    try:
        from dataward.pipelines import classify_files  # type: ignore[attr-defined]
    except ImportError:
        return ScanSummary("unavailable")
    total: Counter[str] = Counter()
    with_pd = unreadable = 0
    for r in classify_files(list(paths), settings):
        c = _counts_of(r)
        total.update(c)
        with_pd += bool(c)
        status = getattr(r, "status", "ok")
        unreadable += status not in ("ok", "")
    return ScanSummary("scanned", dict(sorted(total.items())), with_pd, unreadable)


def scan_selection(paths: Iterable[Path], settings: Settings) -> ScanSummary:
    if not settings.transfer.scan_before_packaging:
        return ScanSummary("off")
    return _scan_for_personal_data(paths, settings)
