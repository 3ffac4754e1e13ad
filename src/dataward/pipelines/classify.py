"""Classify a handful of files outside a scan (for example before packaging them):
per-item entity counts, no Parquet, no ledger row.

The files are read exactly as a scan reads them: in worker processes under the scan's
time and memory limits (``scan.item_timeout_s``, ``scan.item_memory_mb``), so a hostile
file cannot hang or exhaust the caller, and every item inside a file (a zip's members, a
message's attachments, an mbox's messages) is classified and counted too."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..connectors.filesystem import walk
from ..settings import Settings, Source
from .scan import build_roster, make_classifier, new_scan_id
from .scan_item import ENTITY_TO_COLUMN, ItemContext
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
                   rosters: list[Path] | None = None, workers: int = 0) -> list[FileClassification]:
    """Every file under ``paths`` (links are not followed) and every item inside each,
    classified in isolated workers."""
    ctx = ItemContext(settings, make_classifier(settings, build_roster(settings, rosters)),
                      new_scan_id(), counts_only=True)
    tasks = []
    for p in paths:
        source = Source(name=Path(p).name, path=Path(p).absolute(), audience="transfer")
        tasks += [Task(entry, source.name, source.audience) for entry in walk(source)]
    out = []
    with ItemPool(ctx, workers) as pool:
        for _i, outcome in pool.run(tasks):
            for depth, item in enumerate(o.item for o in outcome.flatten()):
                counts = {entity: item[col] for entity, col in ENTITY_TO_COLUMN.items()
                          if item.get(col)}
                out.append(FileClassification(item["path"], item["format"], item["status"],
                                              item["error"], item["size"], item["sha256"],
                                              counts, item["special_category"],
                                              item["risk_level"], inside=depth > 0))
    return out
