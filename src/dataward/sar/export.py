"""``dataward sar export``: the person's files as one encrypted transfer package, with an
index of the other people's data each file also holds.

The files are those ``sar find`` lists. A message in a mailbox (an mbox, a PST, a message
attached to a message) or a member of an archive is not exported with its container (a
whole mailbox holds other people's mail): the one message is taken out of it as an
``.eml`` (``sar.members``), an attachment or archive member under its own name. The
index (``SAR-index.csv`` inside the package, so it is encrypted with the files) has one
row per exported file and kind of other people's data, counting what the file holds and
everything inside it (a message's attachments): the entity type, how often it occurs and
its masked previews, so the DPO knows what to redact before disclosure. It is made from
findings.parquet (masked previews and fingerprints only). The index and the messages taken
out are written 0600 in a 0700 folder under the state folder and removed once packaged."""
from __future__ import annotations

import csv
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import DatawardError, NotFoundError, RefusedError
from ..home import ensure_home, fingerprint_key
from ..ledger import Ledger
from ..pipelines.outputs import FINDINGS_FILE, ITEMS_FILE
from ..pipelines.report_paths import item_id
from ..pipelines.scan import top_locator
from ..schema import sar_requests
from ..settings import Settings
from ..transfer.create import PackageResult, PasswordMethod, create_package
from ..transfer.selection import SelectedFile, select_files
from .members import MemberFile, extract_member, is_member
from .requests import SarFound, find_request

INDEX_NAME = "SAR-index.csv"
__all__ = ["INDEX_NAME", "SarExport", "export_request", "index_rows", "is_member"]


@dataclass(frozen=True)
class SarExport:
    sar_id: str
    package: PackageResult
    files: int
    index_rows: int
    messages: int = 0        # messages and members taken out of their containers
    left_out: int = 0        # items found by the scan that could not be packaged (see index)


def _unit_of(loc: str, units: dict[str, str]) -> str | None:
    """The exported file (or taken-out message) a finding's item belongs to: itself, or
    the nearest container of it that is exported."""
    if loc in units:
        return loc
    return next((c for c in _containers(loc) if c in units), None)


def index_rows(found: SarFound, scan_dir: Path, units: dict[str, str]) -> list[list[object]]:
    """[file in the package, entity type, occurrences, masked previews] of the data of
    people other than the subject, per exported unit (locator -> its name in the package)."""
    t = pq.read_table(scan_dir / FINDINGS_FILE,
                      columns=["locator", "entity_type", "preview", "fingerprint"])
    tops = sorted({top_locator(u) for u in units})
    keep = pc.is_in(t["locator"], value_set=pa.array(tops, pa.string()))
    for top in tops:
        keep = pc.or_(keep, pc.starts_with(t["locator"], top + "!/"))
        keep = pc.or_(keep, pc.starts_with(t["locator"], top + "#"))
    t = t.filter(keep) if tops else t.slice(0, 0)
    counts: Counter[tuple[str, str]] = Counter()
    previews: dict[tuple[str, str], list[str]] = {}
    mine = found.request.fingerprints
    for loc, ent, prev, fp in zip(*(t[c].to_pylist() for c in
                                    ("locator", "entity_type", "preview", "fingerprint"))):
        unit = _unit_of(loc, units)
        if unit is None or ent == "SPECIAL_CATEGORY" or mine.get(fp or "") == ent:
            continue
        key = (units[unit], ent)
        counts[key] += 1
        seen = previews.setdefault(key, [])
        if prev and prev not in seen and len(seen) < 5:
            seen.append(prev)
    rows: list[list[object]] = [[f, e, n, ", ".join(previews[(f, e)])]
                                for (f, e), n in sorted(counts.items())]
    for f in sorted(set(units.values()) - {k[0] for k in counts}):
        rows.append([f, "", 0, "no other person's data found"])
    return rows


def _containers(loc: str) -> list[str]:
    """The locators of the containers of an item, nearest first (none for a file)."""
    out = []
    while loc != top_locator(loc):
        loc = loc[:max(loc.rfind("!/"), loc.rfind("#"))]
        out.append(loc)
    return out


def _outermost(locators: list[str]) -> list[str]:
    """Drop an item whose container is exported too (a message's attachment goes with it)."""
    chosen = set(locators)
    return [loc for loc in locators if not chosen.intersection(_containers(loc))]


def _item_rows(scan_dir: Path, locators: list[str]) -> dict[str, dict[str, str]]:
    t = pq.read_table(scan_dir / ITEMS_FILE, columns=["locator", "path", "sha256"])
    t = t.filter(pc.is_in(t["locator"], value_set=pa.array(locators, pa.string())))
    return {r["locator"]: r for r in t.to_pylist()}


def _write_private(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def _take_out(settings: Settings, scan_dir: Path, found: SarFound, file_locs: set[str],
              ) -> tuple[list[MemberFile], list[list[object]]]:
    """The members to export, taken out of their containers, and index rows for those that
    could not be."""
    locs = _outermost([h.locator for h in found.hits if is_member(h.locator)
                       and top_locator(h.locator) not in file_locs])
    rows = _item_rows(scan_dir, locs + [top_locator(loc) for loc in locs])
    key = fingerprint_key(settings)
    taken, missed = [], []
    for loc in locs:
        top = rows.get(top_locator(loc))
        try:
            if top is None:
                raise RefusedError("its mailbox or archive is not in the scan")
            taken.append(extract_member(settings, top["path"], loc, rows[loc]["sha256"] or ""))
        except (DatawardError, OSError, ValueError) as exc:
            # an OSError's text holds the path (maybe a pupil's name): only its reason;
            # dataward's own messages name no path
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else (
                str(exc).splitlines()[0][:120] if isinstance(exc, DatawardError) else
                type(exc).__name__)
            missed.append([f"(not in this package) item {item_id(key, loc)}",
                           "inside a mailbox or an archive", 0, f"not taken out: {why}"])
    return taken, missed


def export_request(settings: Settings, ledger: Ledger, sar_id: str, *, out_dir: Path,
                   password: str | None = None) -> SarExport:
    """Package the person's files, and the messages taken out of mailboxes, with the
    index; the passphrase is generated (shown once) unless one is given."""
    found = find_request(ledger, sar_id)
    if not found.hits:
        raise NotFoundError(f"the latest scan holds nothing of {sar_id}'s subject",
                            hint="check the values given to `sar open`, or scan again")
    scan_dir = Path(ledger.get_scan(found.scan_id).out_dir)
    file_hits = {h.path: h.locator for h in found.hits if not is_member(h.locator)}
    key = fingerprint_key(settings)
    gone = sorted(p for p in file_hits if not os.path.lexists(p))
    moved = [[f"(not in this package) item {item_id(key, file_hits[p])}", "", 0,
              ("no longer at its path (moved, renamed or deleted since the scan): scan "
               "again, then export again")] for p in gone]
    paths: list[Path | str] = sorted(set(file_hits) - set(gone))
    units = {}
    if paths:
        sel = select_files(paths, settings)   # the same rules and names as create_package
        units = {file_hits[f.path]: f.arcname for f in sel.files if f.path in file_hits}
    taken, missed = _take_out(settings, scan_dir, found, set(file_hits.values()))
    used = {a.lower() for a in units.values()}
    folder = ensure_home(settings) / "sar" / sar_id
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    extras: list[SelectedFile] = []
    try:
        for n, m in enumerate(taken, start=1):
            arc = m.arcname if m.arcname.lower() not in used else f"{n} {m.arcname}"
            used.add(arc.lower())
            units[m.locator] = arc
            p = _write_private(folder, f"member-{n}", m.data)
            extras.append(SelectedFile(str(p), arc, len(m.data), p.stat().st_mtime, 0))
        if not units:
            raise NotFoundError(f"nothing of {sar_id} could be taken out of its mailboxes",
                                hint="scan again, then export again")
        rows = index_rows(found, scan_dir, units) + moved + missed
        index = folder / INDEX_NAME
        fd = os.open(index, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "other people's data", "occurrences", "masked previews"])
            w.writerows(rows)
        st = index.stat()
        extras.append(SelectedFile(str(index), INDEX_NAME, st.st_size, st.st_mtime, 0))
        res = create_package(settings, paths, recipient=f"data subject ({sar_id})",
                             method=PasswordMethod(password), out_dir=out_dir,
                             purpose=f"subject access request {sar_id}", extra_files=extras)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with ledger.begin() as conn:
        conn.execute(sar_requests.update().where(sar_requests.c.sar_id == sar_id)
                     .values(package_id=res.package_id))
        ledger.audit("sar.export", sar_id, conn=conn, package_id=res.package_id,
                     files=len(paths), messages=len(taken), scan_id=found.scan_id)
    return SarExport(sar_id, res, len(paths), len(rows), len(taken), len(gone) + len(missed))
