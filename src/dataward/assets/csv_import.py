"""Reading the school's inventory CSV into ``Asset`` records.

Headers are matched case- and punctuation-insensitively ("Asset Tag", "asset_tag",
"ASSET-TAG" are one column) and a few common aliases are known. Every bad row is
reported by its line number in the file; a file with any bad row yields no assets, so
an import never half-happens. Messages name columns, never values (a row may hold a
person's name).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..connectors.schoolcsv import decode_export, parse_date
from ..errors import InputError
from .models import Asset, split_serials, squash

# canonical field -> squashed header spellings
ALIASES: dict[str, tuple[str, ...]] = {
    "tag": ("assettag", "tag", "assetno", "assetnumber", "assetid", "inventorytag",
            "inventorynumber"),
    "type": ("type", "assettype", "devicetype", "category", "kind"),
    "make": ("make", "manufacturer", "vendor", "brand"),
    "model": ("model", "modelnumber", "modelname"),
    "serial": ("serial", "serialnumber", "serialno", "sn", "servicetag"),
    "storage_serials": ("storageserials", "storageserial", "storagemediaserials",
                        "storagemediaserial", "driveserials", "driveserial", "diskserials",
                        "diskserial", "hddserial", "ssdserial", "mediaserials"),
    "location": ("location", "room", "site"),
    "assigned_to": ("assignedto", "assignee", "user", "owner", "issuedto"),
    "purchase_date": ("purchasedate", "purchased", "dateofpurchase", "acquired",
                      "acquisitiondate"),
    "has_storage": ("hasstorage", "storage", "holdsdata"),
}
_BY_SPELLING = {alias: canon for canon, names in ALIASES.items() for alias in names}
MAX_REPORTED = 50
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


@dataclass
class ParsedInventory:
    assets: list[Asset] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # tag -> line number
    errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def map_headers(headers: list[str]) -> tuple[dict[int, str], list[str], list[str]]:
    """(column index -> field, ignored headers, problems)."""
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(headers):
        canon = _BY_SPELLING.get(squash(h))
        if canon is None:
            if h.strip():
                ignored.append(h.strip())
            continue
        if canon in seen:
            problems.append(f"line 1: columns {seen[canon] + 1} and {i + 1} both give "
                            f"{canon}")
            continue
        seen[canon] = i
        mapping[i] = canon
    for required in ("tag", "type"):
        if required not in seen:
            problems.append(f"line 1: no {required} column (expected a header such as "
                            f"{ALIASES[required][0]!r})")
    return mapping, ignored, problems


def _row_to_asset(values: dict[str, str], line: int) -> tuple[Asset | None, list[str]]:
    errors: list[str] = []
    data: dict[str, object] = {k: v.strip() for k, v in values.items()
                               if k not in ("storage_serials", "purchase_date", "has_storage")}
    data["storage_serials"] = tuple(split_serials(values.get("storage_serials", "")))
    pd = values.get("purchase_date", "").strip()
    if pd:
        try:
            data["purchase_date"] = parse_date(pd)
        except ValueError as exc:
            errors.append(f"line {line}: purchase_date is {exc}")
    hs = squash(values.get("has_storage", ""))
    if hs:
        if hs in _YES or hs in _NO:
            data["has_storage_override"] = hs in _YES
        else:
            errors.append(f"line {line}: has_storage must be yes or no")
    if errors:
        return None, errors
    try:
        return Asset(**data), []
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "row"
            errors.append(f"line {line}: {where}: {e['msg'].removeprefix('Value error, ')}")
        return None, errors


def parse_inventory(path: Path) -> ParsedInventory:
    """Parse a whole inventory CSV; errors collect in ``.errors`` (no exception)."""
    try:
        text = decode_export(path.read_bytes())[0]
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    result = ParsedInventory()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        result.errors.append("line 1: the file is empty (expected a header row)")
        return result
    except csv.Error as exc:
        result.errors.append(f"line 1: not valid CSV ({exc})")
        return result
    mapping, result.ignored_columns, problems = map_headers(headers)
    result.errors.extend(problems)
    if problems:
        return result
    first_line: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(f"line {line}: not valid CSV ({exc})")
            break
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) > len(headers):
            result.errors.append(f"line {start}: {len(row)} cells but {len(headers)} headers")
            continue
        values = {mapping[i]: cell for i, cell in enumerate(row) if i in mapping}
        asset, errs = _row_to_asset(values, start)
        result.errors.extend(errs)
        if asset is None:
            continue
        key = asset.tag.lower()
        if key in first_line:
            result.errors.append(f"line {start}: asset tag {asset.tag} repeats line "
                                 f"{first_line[key]}")
            continue
        first_line[key] = start
        result.assets.append(asset)
        result.lines[asset.tag] = start
    return result


def summarise_errors(errors: list[str]) -> str:
    shown = errors[:MAX_REPORTED]
    more = len(errors) - len(shown)
    return "\n  ".join(shown) + (f"\n  ... and {more} more" if more else "")
