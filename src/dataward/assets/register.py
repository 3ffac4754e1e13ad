"""The asset register in the ledger: add, import, look up, list.

Every change is audited with tags and counts only; ``assigned_to`` stays in the
register table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError as DuplicateKey

from ..errors import InputError, NotFoundError, RefusedError
from ..ledger import Ledger, utcnow
from .csv_import import parse_inventory, summarise_errors
from .models import Asset, type_has_storage
from .tables import assets_table


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    ignored_columns: list[str]


def _row_values(asset: Asset) -> dict[str, Any]:
    return {
        "tag": asset.tag, "type": asset.type, "make": asset.make, "model": asset.model,
        "serial": asset.serial, "storage_serials": json.dumps(list(asset.storage_serials)),
        "location": asset.location, "assigned_to": asset.assigned_to,
        "purchase_date": asset.purchase_date.isoformat() if asset.purchase_date else None,
        "has_storage": int(asset.has_storage),
    }


def asset_from_row(row: Any) -> Asset:
    serials = tuple(json.loads(row.storage_serials or "[]"))
    inferred = bool(serials) or type_has_storage(row.type)
    return Asset(
        tag=row.tag, type=row.type, make=row.make, model=row.model, serial=row.serial,
        storage_serials=serials, location=row.location, assigned_to=row.assigned_to,
        purchase_date=date.fromisoformat(row.purchase_date) if row.purchase_date else None,
        status=row.status,
        has_storage_override=None if bool(row.has_storage) == inferred else bool(row.has_storage),
    )


def _existing(conn: Connection, tags: list[str]) -> dict[str, str]:
    """lower-cased tag -> status, for tags already in the register."""
    found: dict[str, str] = {}
    lowered = [t.lower() for t in tags]
    for start in range(0, len(lowered), 500):
        chunk = lowered[start:start + 500]
        q = select(assets_table.c.tag, assets_table.c.status).where(
            func.lower(assets_table.c.tag).in_(chunk))
        found.update({r.tag.lower(): r.status for r in conn.execute(q)})
    return found


_RACE = RefusedError("an asset tag being added is already in the register (another "
                     "import ran at the same time?); nothing was changed")


def add_asset(ledger: Ledger, asset: Asset) -> None:
    try:
        _add(ledger, asset)
    except DuplicateKey:
        raise _RACE from None


def _add(ledger: Ledger, asset: Asset) -> None:
    with ledger.begin() as conn:
        if _existing(conn, [asset.tag]):
            raise RefusedError(f"asset {asset.tag} is already in the register",
                               hint="`dataward assets show TAG` shows it")
        now = utcnow()
        conn.execute(insert(assets_table).values(**_row_values(asset), status="in-use",
                                                 created=now, updated=now))
        ledger.audit("assets.add", asset.tag, conn=conn, type=asset.type,
                     has_storage=asset.has_storage)


def import_csv(ledger: Ledger, path: Path, *, update_existing: bool = False) -> ImportResult:
    """Import an inventory CSV: all rows or none. Raises InputError naming bad lines."""
    try:
        return _import(ledger, path, update_existing)
    except DuplicateKey:
        raise _RACE from None


def _import(ledger: Ledger, path: Path, update_existing: bool) -> ImportResult:
    parsed = parse_inventory(path)
    errors = list(parsed.errors)
    with ledger.begin() as conn:
        existing = _existing(conn, [a.tag for a in parsed.assets])
        for a in parsed.assets:
            status = existing.get(a.tag.lower())
            line = parsed.lines[a.tag]
            if status == "disposed":
                errors.append(f"line {line}: asset {a.tag} was disposed of; "
                              "a disposed asset cannot be changed")
            elif status is not None and not update_existing:
                errors.append(f"line {line}: asset {a.tag} is already in the register "
                              "(use --update to overwrite it)")
        errors.sort(key=_line_of)
        if errors:
            raise InputError(f"{path.name}: {len(errors)} problem(s), nothing imported:\n  "
                             + summarise_errors(errors))
        if not parsed.assets:
            raise InputError(f"{path.name}: no asset rows found, nothing imported")
        now = utcnow()
        added = updated = 0
        for a in parsed.assets:
            if a.tag.lower() in existing:
                conn.execute(update(assets_table)
                             .where(func.lower(assets_table.c.tag) == a.tag.lower())
                             .values(**{k: v for k, v in _row_values(a).items() if k != "tag"},
                                     updated=now))
                updated += 1
            else:
                conn.execute(insert(assets_table).values(**_row_values(a), status="in-use",
                                                         created=now, updated=now))
                added += 1
        ledger.audit("assets.import", path.name, conn=conn, added=added, updated=updated,
                     rows=len(parsed.assets))
    return ImportResult(added, updated, parsed.ignored_columns)


def _line_of(message: str) -> int:
    try:
        return int(message.split(":", 1)[0].removeprefix("line "))
    except ValueError:
        return 0


def get_asset(ledger: Ledger, tag: str, *, conn: Connection | None = None) -> Asset:
    q = select(assets_table).where(func.lower(assets_table.c.tag) == tag.strip().lower())
    if conn is None:
        with ledger.engine.connect() as c:
            row = c.execute(q).first()
    else:
        row = conn.execute(q).first()
    if row is None:
        raise NotFoundError(f"no asset {tag!r} in the register",
                            hint="`dataward assets list` shows the register")
    return asset_from_row(row)


def list_assets(ledger: Ledger, *, status: str | None = None) -> list[Asset]:
    q = select(assets_table).order_by(assets_table.c.tag)
    if status:
        q = q.where(assets_table.c.status == status)
    with ledger.engine.connect() as conn:
        return [asset_from_row(r) for r in conn.execute(q)]
