"""Classify a handful of files outside a scan (for example before packaging them):
per-file entity counts, no Parquet, no ledger row."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..connectors.filesystem import walk
from ..settings import Settings, Source
from .scan import build_roster, make_classifier, new_scan_id
from .scan_item import ItemContext, process_entry


@dataclass(frozen=True)
class FileClassification:
    path: str
    format: str
    status: str
    error: str
    size: int
    sha256: str
    counts: dict[str, int] = field(default_factory=dict)
    special_category: bool = False
    risk_level: str = "none"

    @property
    def has_personal_data(self) -> bool:
        return any(self.counts.values())


def classify_files(paths: list[Path], settings: Settings,
                   rosters: list[Path] | None = None) -> list[FileClassification]:
    """Every file under ``paths`` (links are not followed), classified."""
    ctx = ItemContext(settings, make_classifier(settings, build_roster(settings, rosters)),
                      new_scan_id())
    out = []
    for p in paths:
        source = Source(name=Path(p).name, path=Path(p).absolute(), audience="transfer")
        for entry in walk(source):
            row = process_entry(entry, source.name, source.audience, ctx).item
            counts = {k[2:].upper(): v for k, v in row.items() if k.startswith("n_") and k != "n_findings" and v}
            out.append(FileClassification(row["path"], row["format"], row["status"], row["error"],
                                          row["size"], row["sha256"], counts,
                                          row["special_category"], row["risk_level"]))
    return out
