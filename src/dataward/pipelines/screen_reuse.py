"""What the nightly scan already knows about a file's contents, for the screening before
packaging: a file whose SHA-256 is that of an item of the latest scan catalog, read
under the same read basis (dataward's version, the classifier and extractor code, the
recognizers, the terms, the settings that decide findings) and the same roster, has that
item's counts, and is not read again. Anything else that decided the result differs, and
the file is read (DESIGN.md invariant 7: a reused result is bound to a fingerprint of
everything that decided it).

Only plain items are reused: status ``ok``, nothing inside them (an archive's members, a
message's attachments are items of their own, counted by reading), and not mail (whose
header findings weigh differently)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.compute as pc

from ..errors import DatawardError
from .outputs import ITEMS_FILE, read_items
from .scan_basis import READ_PARTS, basis_for, roster_record
from .scan_item import ENTITY_TO_COLUMN

if TYPE_CHECKING:
    from ..connectors.roster import Roster
    from ..settings import Settings

# What must be the same for a scan's result to stand for tonight's screening.
DECIDING = (*READ_PARTS, "roster")
MAIL_FORMATS = frozenset({"eml", "msg", "mbox", "pst"})


@dataclass(frozen=True)
class KnownItem:
    """An item of the latest scan catalog, as far as the screening needs it."""

    format: str
    counts: dict[str, int] = field(default_factory=dict)
    special_category: bool = False


def known_items(settings: Settings, roster: Roster) -> dict[str, KnownItem]:
    """SHA-256 of contents -> what the latest scan found in an item holding them (empty
    when there is no scan, no key, or nothing was read under tonight's basis)."""
    from ..home import fingerprint_key
    from ..ledger import Ledger
    try:
        key = fingerprint_key(settings)
        with Ledger.for_settings(settings) as ledger:
            last = ledger.get_scan("latest")
    except DatawardError:
        return {}
    scan_dir = Path(last.out_dir)
    if not (scan_dir / ITEMS_FILE).exists():
        return {}
    now = basis_for(settings, roster_record(roster, key).digest, "")
    sources = (json.loads(last.summary or "{}").get("sources") or {})
    same = [name for name, rec in sources.items()
            if all((rec.get("basis") or {}).get(k) == now.get(k) for k in DECIDING)]
    if not same:
        return {}
    return _plain_items(scan_dir, same)


def _plain_items(scan_dir: Path, sources: list[str]) -> dict[str, KnownItem]:
    items = read_items(scan_dir)
    items = items.filter(pc.is_in(items["source"], value_set=pc.cast(sources, "string")))
    columns = items.select(["locator", "sha256", "status", "format", "special_category",
                            *ENTITY_TO_COLUMN.values()]).to_pydict()
    # Containers: a locator some other item's locator extends (a.zip!/b, x.mbox#3).
    containers = {loc.split("!/", 1)[0].split("#", 1)[0] for loc in columns["locator"]
                  if "!/" in loc or "#" in loc}
    out: dict[str, KnownItem] = {}
    for i, loc in enumerate(columns["locator"]):
        fmt, digest = columns["format"][i], columns["sha256"][i]
        if (columns["status"][i] != "ok" or not digest or loc in containers
                or "!/" in loc or "#" in loc or fmt in MAIL_FORMATS):
            continue
        counts = {entity: columns[col][i] for entity, col in ENTITY_TO_COLUMN.items()
                  if columns[col][i]}
        out[digest] = KnownItem(fmt, counts, bool(columns["special_category"][i]))
    return out

