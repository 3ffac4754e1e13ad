"""Classify a handful of files outside a scan (for example before packaging them):
per-item entity counts, no Parquet, no ledger row.

The files are read exactly as a scan reads them: in worker processes under the scan's
time and memory limits (``scan.item_timeout_s``, ``scan.item_memory_mb``), so a hostile
file cannot hang or exhaust the caller, and every item inside a file (a zip's members, a
message's attachments, an mbox's messages) is classified and counted too. A file the
nightly scan already read with the same contents, code, settings and roster is not read
again: the scan's counts stand (``screen_reuse``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..classifiers.risk import score as risk_score
from ..connectors.filesystem import FileEntry, file_sha256, walk
from ..settings import Settings, Source
from .scan import build_roster, make_classifier, new_scan_id
from .item_row import ItemRow
from .scan_item import ENTITY_TO_COLUMN, ItemContext
from .screen_reuse import KnownItem, known_items
from .workers import ItemPool, Task


@dataclass(frozen=True)
class FileClassification:
    path: str          # a member's path follows its container's: a.zip!/inner/b.docx
    format: str
    status: str
    error: str
    size: int
    sha256: str
    counts: dict[str, int] = field(default_factory=dict)
    special_category: bool = False
    risk_level: str = "none"
    inside: bool = False  # an item inside a file (member, attachment, message)

    @property
    def has_personal_data(self) -> bool:
        return any(self.counts.values())


def classify_files(paths: list[Path], settings: Settings,
                   rosters: list[Path] | None = None, workers: int = 0, *,
                   reuse: bool = True) -> list[FileClassification]:
    """Every file under ``paths`` (links are not followed) and every item inside each,
    classified in isolated workers. ``reuse``: a file the latest scan catalog read with
    the same contents and basis gives that scan's counts unread (``screen_reuse``)."""
    roster = build_roster(settings, rosters)
    known = known_items(settings, roster) if reuse else {}
    tasks = []
    for p in paths:
        source = Source(name=Path(p).name, path=Path(p).absolute(), audience="transfer")
        tasks += [Task(entry, source.name, source.audience) for entry in walk(source)]
    done: dict[int, list[FileClassification]] = {}
    for i, task in enumerate(tasks):
        reused = _reused(task.entry, known, settings)
        if reused is not None:
            done[i] = [reused]
    todo = [i for i in range(len(tasks)) if i not in done]
    if todo:
        from ..classifiers import column_counts  # noqa: F401 - loaded once, before the workers fork
        ctx = ItemContext(settings, make_classifier(settings, roster), new_scan_id(),
                          counts_only=True)
        with ItemPool(ctx, workers) as pool:
            for k, outcome in pool.run([tasks[i] for i in todo]):
                done[todo[k]] = [_classification(o.item, depth > 0)
                                 for depth, o in enumerate(outcome.flatten())]
    return [c for i in range(len(tasks)) for c in done[i]]


def _classification(item: ItemRow, inside: bool) -> FileClassification:
    counts = {entity: item.count(col) for entity, col in ENTITY_TO_COLUMN.items()
              if item.count(col)}
    return FileClassification(item.path, item.format, item.status, item.error, item.size,
                              item.sha256, counts, item.special_category, item.risk_level,
                              inside=inside)


def _reused(entry: FileEntry, known: dict[str, KnownItem],
            settings: Settings) -> FileClassification | None:
    """The latest scan's counts for a file with the same contents, or None: read it."""
    if not known or entry.kind != "file":
        return None
    try:
        digest = file_sha256(entry.path)
    except OSError:
        return None
    hit = known.get(digest)
    if hit is None:
        return None
    _score, level = risk_score({e: float(n) for e, n in hit.counts.items()}, "transfer",
                               settings.risk, hit.special_category)
    return FileClassification(entry.display_path, hit.format, "ok", "", entry.size, digest,
                              dict(hit.counts), hit.special_category, level)
