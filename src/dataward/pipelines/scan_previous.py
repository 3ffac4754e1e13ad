"""The last complete scan, as the next scan uses it: its items indexed for reuse
(by locator, and by inode, size and mtime for a file moved within its share), whether an
item read again changed, and the rows carried over unread (renamed when the file moved).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..classifiers.ocr_item import RECOGNISED_FORMATS
from ..connectors.filesystem import FileEntry
from .item_row import ItemRow
from .outputs import (
    FINDINGS_FILE,
    ITEMS_FILE,
    NAME_INDEX_SCHEMA,
    read_findings,
    read_items,
)
from .scan_plan import ScanPlan, read_name_filters


class Previous:
    """The last complete scan's items, indexed for reuse."""

    def __init__(self, scan_dir: Path | None) -> None:
        self.items: pa.Table | None = None
        self.findings_path: Path | None = None
        self.by_locator: dict[str, int] = {}
        self.children_of: dict[str, list[int]] = {}  # top-level locator -> member rows
        self.identity: list[tuple[int, int, int]] = []
        self.by_identity: dict[tuple[int, int, int], int] = {}
        self.locators: list[str] = []
        self.sources: list[str] = []
        self.scan_dir = scan_dir
        self._filters: dict[str, bytes] | None = None
        self._path_named: frozenset[str] | None = None
        if scan_dir is None or not (scan_dir / ITEMS_FILE).exists():
            return
        self.items = read_items(scan_dir)
        self.findings_path = scan_dir / FINDINGS_FILE
        self.sources = self.items["source"].to_pylist()
        cols = self.items.select(["locator", "size", "mtime_ns", "inode", "status", "format",
                                  "ocr"]).to_pydict()
        for i, (loc, size, mt, ino, status, fmt, ocr) in enumerate(zip(
                cols["locator"], cols["size"], cols["mtime_ns"], cols["inode"], cols["status"],
                cols["format"], cols["ocr"])):
            self.identity.append((ino, size, mt))
            top = top_locator(loc)
            if top != loc:
                self.children_of.setdefault(top, []).append(i)
                continue
            if ocr is None and fmt in RECOGNISED_FORMATS:
                continue  # read before text recognition existed: read again
            if status in ("ok", "encrypted", "unsupported", "skipped"):
                self.by_locator[loc] = i
                self.by_identity[(ino, size, mt)] = i
        self.locators = cols["locator"]

    def top_counts(self) -> Counter[str]:
        """Top-level items (files) of each source."""
        return Counter(s for loc, s in zip(self.locators, self.sources) if top_locator(loc) == loc)

    def name_filters(self) -> dict[str, bytes]:
        """locator -> the keyed index of its words, for items that had text."""
        if self._filters is None:
            self._filters = read_name_filters(self.scan_dir) if self.scan_dir else {}
        return self._filters


    def path_named(self) -> frozenset[str]:
        """Locators whose file or folder name held a roster name (the path-name check)."""
        if self._path_named is None:
            self._path_named = frozenset()
            if self.findings_path is not None and self.findings_path.exists():
                t = read_findings(self.findings_path.parent).select(["locator", "where"])
                t = t.filter(pc.is_in(t["where"], value_set=pa.array(["file name", "folder name"])))
                self._path_named = frozenset(t["locator"].to_pylist())
        return self._path_named

    def rows_under(self, folder_locator: str, seen: set[str]) -> list[int]:
        """Rows (with their members) of items below a folder, for a folder that could not
        be listed this time: the last result is kept, and the folder's row says why."""
        if self.items is None:
            return []
        prefix = folder_locator.rstrip("/") + "/"
        rows = []
        for loc, i in self.by_locator.items():
            if loc.startswith(prefix) and loc not in seen:
                seen.add(loc)
                rows.append(i)
                rows.extend(self.children_of.get(loc, []))
        return rows


def top_locator(locator: str) -> str:
    """The file a member locator belongs to (``file:///a.zip!/b.docx`` -> ``file:///a.zip``)."""
    return locator.split("!/", 1)[0].split("#", 1)[0]


def change_of(previous: Previous, row: ItemRow) -> str:
    """new, changed, or unchanged (a file read again though it did not change)."""
    idx = previous.by_locator.get(row.locator)
    if idx is None:
        return "new"
    same = previous.identity[idx] == (row.inode, row.size, row.mtime_ns)
    return "unchanged" if same else "changed"


def reusable(previous: Previous, entry: FileEntry, locator: str, source: str,
              plan: ScanPlan) -> int | None:
    if previous.items is None or entry.kind != "file" or source in plan.no_reuse:
        return None
    idx = previous.by_locator.get(locator)
    if idx is not None:
        same = previous.identity[idx] == (entry.inode, entry.size, entry.mtime_ns)
    else:
        idx = previous.by_identity.get((entry.inode, entry.size, entry.mtime_ns))
        same = idx is not None
    if not same or idx is None:
        return None
    if previous.sources[idx] != source or previous.locators[idx] in plan.recheck:
        return None  # decided under another source's basis, or may hold a new roster name
    return idx


def carry_over(previous: Previous, idx: list[int], moves: dict[int, FileEntry],
                scan_id: str) -> tuple[pa.Table, pa.Table, pa.Table]:
    assert previous.items is not None and previous.findings_path is not None
    carried = previous.items.take(pa.array(idx, pa.int64()))
    n = carried.num_rows
    change = ["moved" if i in moves else "unchanged" for i in idx]

    def renamed(old: str, entry: FileEntry) -> str:
        top = top_locator(old)
        return entry.locator + old[len(top):]

    carried = carried.set_column(carried.schema.get_field_index("scan_id"), "scan_id", pa.array([scan_id] * n))
    carried = carried.set_column(carried.schema.get_field_index("change"), "change", pa.array(change))
    old_locators = [previous.locators[i] for i in idx]
    rename = {previous.locators[i]: renamed(previous.locators[i], e) for i, e in moves.items()}
    if moves:
        loc = [rename.get(x, x) for x in old_locators]
        path = [moves[i].display_path + p[len(p.split("!/", 1)[0].split("#", 1)[0]):]
                if i in moves else p for i, p in zip(idx, carried["path"].to_pylist())]
        carried = carried.set_column(carried.schema.get_field_index("locator"), "locator", pa.array(loc))
        carried = carried.set_column(carried.schema.get_field_index("path"), "path", pa.array(path))
    findings = read_findings(previous.findings_path.parent)
    keep = findings.filter(pc.is_in(findings["locator"], value_set=pa.array(old_locators)))
    keep = keep.set_column(keep.schema.get_field_index("scan_id"), "scan_id",
                           pa.array([scan_id] * keep.num_rows, pa.string()))
    if moves:
        keep = keep.set_column(keep.schema.get_field_index("locator"), "locator", pa.array(
            [rename.get(x, x) for x in keep["locator"].to_pylist()], pa.string()))
    filters = previous.name_filters()
    index = [(rename.get(x, x), filters[x]) for x in old_locators if x in filters]
    index_table = pa.table({"locator": [a for a, _ in index], "tokens": [b for _, b in index]},
                           schema=NAME_INDEX_SCHEMA)
    return carried, keep, index_table
