"""``dataward show ITEM``: the full path behind an item id of the report, on the server only.

The report masks every path part that holds personal data; a DPO who must act on an item
asks for its full path here. Each look-up is recorded in the audit log (who, which item,
which scan), never the path itself."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from ..errors import NotFoundError
from ..home import fingerprint_key
from ..ledger import Ledger
from ..settings import Settings
from .outputs import ITEMS_FILE
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


def _scans(ledger: Ledger, scan: str) -> list:
    if scan != "latest":
        return [ledger.get_scan(scan)]
    return [r for r in ledger.scan_rows() if r.status in ("complete", "partial")
            and (Path(r.out_dir) / ITEMS_FILE).exists()]


def find_item(settings: Settings, ledger: Ledger, wanted: str, *, scan: str = "latest") -> ShownItem:
    """The item whose report id is ``wanted``, from the newest scan that holds it."""
    wanted = wanted.strip().lower()
    if len(wanted) != ITEM_ID_CHARS:
        raise NotFoundError(f"{wanted!r} is not an item id",
                            hint=f"copy the {ITEM_ID_CHARS}-character id from the report's item column")
    key = fingerprint_key(settings)
    for row in _scans(ledger, scan):
        t = pq.read_table(Path(row.out_dir) / ITEMS_FILE,
                          columns=["locator", "path", "source", "audience", "risk_level"])
        locators = t["locator"].to_pylist()
        for i, loc in enumerate(locators):
            if item_id(key, loc) == wanted:
                r = t.slice(i, 1).to_pylist()[0]
                ledger.audit("report.show", wanted, scan_id=row.scan_id)
                return ShownItem(wanted, row.scan_id, loc, r["path"], r["source"],
                                 r["audience"] or "", r["risk_level"] or "")
        del locators, t
    raise NotFoundError(f"no scan holds item {wanted}",
                        hint="the report may be older than the scans kept; run `dataward report` again")
