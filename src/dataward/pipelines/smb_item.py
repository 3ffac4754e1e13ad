"""One item of an SMB source: read it and its permissions over the network, classify it,
and say who can read it.

The audience of the row is the widest audience among the groups that can read the item
(``smb.audiences``), not the source's configured one (kept as the fallback when the
permissions cannot be read or no reader maps). A special-category item that a pupil
audience can read is ``critical`` whatever its score: pupils can open it today.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..classifiers.sniff import sniff
from ..connectors.smb import ItemChanged, SmbEntry, client_for, read_smb
from ..connectors.smb_acl import SidNames, describe
from ..connectors.smb_errors import reason_for
from ..errors import DatawardError
from .report_data import PUPIL_AUDIENCES
from .scan_item import ItemOutcome, _classified, base_row

if TYPE_CHECKING:
    from ..settings import Settings
    from .scan_item import ItemContext


@dataclass
class SmbNames:
    """SID names for one scan in this process: well-known ones, and the groups and
    accounts of ``smb.directory`` with the nested memberships of the groups that
    ``smb.audiences`` maps (read once per scan, so a membership changed since the last
    scan counts)."""

    scan_id: str
    names: SidNames = field(default_factory=SidNames)
    loaded: bool = False
    error: str = ""


_NAMES: dict[int, SmbNames] = {}


def sid_names(settings: Settings, scan_id: str) -> SmbNames:
    """Loaded once per scan and process; a directory that cannot be read leaves SIDs
    unnamed and groups unexpanded, and says so on each item (the scan goes on)."""
    entry = _NAMES.get(id(settings))
    if entry is None or entry.scan_id != scan_id:
        _NAMES.clear()
        entry = _NAMES[id(settings)] = SmbNames(scan_id)
    if not entry.loaded:
        entry.loaded = True
        name = settings.smb.directory
        if name:
            from ..connectors.directory import find_directory, read_sid_directory
            try:
                found = read_sid_directory(find_directory(settings, name), settings.smb.audiences)
            except DatawardError as exc:
                entry.error = f"group names unavailable ({exc.message})"
            else:
                entry.names.names.update(found.names)
                entry.names.groups.update(found.groups)
    return entry


def groups_digest(settings: Settings, scan_id: str) -> str:
    """A digest of who is in each mapped group this scan (nested memberships included),
    part of an SMB source's basis: when a membership changes, the source's items are read
    again, so no reused row keeps an audience the directory no longer gives. A directory
    that cannot be read has its own digest (its items are read again once it answers)."""
    names = sid_names(settings, scan_id)
    if names.error:
        return "unavailable"
    groups = sorted((sid, sorted(g)) for sid, g in names.names.groups.items())
    return hashlib.sha256(json.dumps(groups).encode()).hexdigest()[:32]


def process_smb_entry(entry: SmbEntry, source_name: str, audience: str,
                      ctx: ItemContext) -> ItemOutcome:
    row = base_row(entry, source_name, audience, ctx.scan_id)
    row.owner, row.mode = "", ""
    if entry.write_ns:  # the column people read is the last write; mtime_ns stays the change time
        row.mtime = datetime.fromtimestamp(entry.write_ns / 1e9, UTC)
    if entry.kind == "symlink":
        row.set(status="skipped", format="symlink", error=entry.error)
        return ItemOutcome(row, [])
    if entry.kind == "dir-error":
        row.set(status="error", format="folder", error=entry.error)
        return ItemOutcome(row, [])
    if entry.size > ctx.max_bytes:
        row.set(status="skipped", format=sniff(entry.rel, b""),
                   error=f"larger than the {ctx.settings.scan.max_file_mb:g} MB cap")
        return ItemOutcome(row, [])
    try:
        got = read_smb(entry, client_for(ctx.settings), ctx.max_bytes)
    except ItemChanged as exc:
        row.set(status="error", format=sniff(entry.rel, b""), error=str(exc))
        return ItemOutcome(row, [])
    except Exception as exc:  # noqa: BLE001 - any server or network fault is this item's status
        row.set(status="error", format=sniff(entry.rel, b""), error=reason_for(exc))
        return ItemOutcome(row, [])
    notes = [got.sd_error] if got.sd_error else []
    if got.sd is not None:
        names = sid_names(ctx.settings, ctx.scan_id)
        if names.error:
            notes.append(names.error)
        access = describe(got.sd, entry.path, dict(entry.origins), names.names,
                          ctx.settings.smb.audiences, ctx.settings.risk.audience_factors)
        row.owner = access.owner
        row.readers = ", ".join(access.readers)
        row.readers_from = "; ".join(f"{r}: {src}" for r, src in access.origins)
        if access.audience is not None:
            row.audience = access.audience
        if access.unknown:
            notes.append("the permissions name unknown account(s) " + ", ".join(access.unknown)
                         + "; the audience comes from the known ones")
    row.sha256 = hashlib.sha256(got.data).hexdigest()
    from ..classifiers.extractors.archive import reset_budget
    reset_budget()
    outcome = _classified(got.data, entry.rel, row, ctx, 0)
    for part in outcome.flatten():
        item = part.item
        if notes and item.status == "ok" and not item.error:
            item.error = "; ".join(notes)
        if item.special_category and item.audience in PUPIL_AUDIENCES:
            levels = ctx.settings.risk.levels
            item.risk_level = "critical"
            item.risk_score = max(item.risk_score, levels.get("critical", 0.0))
    return outcome
