"""``dataward show ITEM``: the full path behind an item id of the report, on the server only.

The report masks every path part that holds personal data; a DPO who must act on an item
asks for its full path here. Each look-up is recorded in the audit log (who, which item,
which scan), never the path itself."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NotFoundError
from ..home import fingerprint_key
from ..ledger import Ledger
from ..settings import Settings
from .outputs import ITEMS_FILE, read_items
from .report_paths import ITEM_ID_CHARS, item_id


@dataclass(frozen=True)
class ShownItem:
    item_id: str
    scan_id: str
    locator: str
    path: str
    source: str
    audience: str
    risk_level: str
    inode: int | None = None
    size: int | None = None
    mtime_ns: int | None = None
    sha256: str = ""


def _scans(ledger: Ledger, scan: str) -> list[Any]:
    if scan != "latest":
        return [ledger.get_scan(scan)]
    return [r for r in ledger.scan_rows() if r.status in ("complete", "partial")
            and (Path(r.out_dir) / ITEMS_FILE).exists()]


def locate_item(settings: Settings, ledger: Ledger, wanted: str, *,
                scan: str = "latest") -> ShownItem:
    """The item whose report id is ``wanted``, from the newest scan that holds it."""
    wanted = wanted.strip().lower()
    if len(wanted) != ITEM_ID_CHARS:
        raise NotFoundError(f"{wanted!r} is not an item id",
                            hint=f"copy the {ITEM_ID_CHARS}-character id from the report's item column")
    key = fingerprint_key(settings)
    cols = ["locator", "path", "source", "audience", "risk_level", "inode", "size", "mtime_ns",
            "sha256"]
    for row in _scans(ledger, scan):
        t = read_items(Path(row.out_dir)).select(cols)
        for i, loc in enumerate(t["locator"].to_pylist()):
            if item_id(key, loc) == wanted:
                r = t.slice(i, 1).to_pylist()[0]
                return ShownItem(wanted, row.scan_id, loc, r["path"], r["source"],
                                 r["audience"] or "", r["risk_level"] or "", r["inode"],
                                 r["size"], r["mtime_ns"], r["sha256"] or "")
    raise NotFoundError(f"no scan holds item {wanted}",
                        hint="the report may be older than the scans kept; run `dataward report` again")


def find_item(settings: Settings, ledger: Ledger, wanted: str, *, scan: str = "latest") -> ShownItem:
    """``locate_item``, recorded in the audit log (the item id and scan, not the path)."""
    found = locate_item(settings, ledger, wanted, scan=scan)
    ledger.audit("report.show", found.item_id, scan_id=found.scan_id)
    return found
