"""``dataward sar export``: the person's files as one encrypted transfer package, with an
index of the other people's data each file also holds.

The files are those ``sar find`` lists. A message in a mailbox or a member of an archive
is not exported with its container (a whole mailbox holds other people's mail): the
index lists it by item id, to extract by hand (``dataward show ITEM``). The index (``SAR-index.csv`` inside the package,
so it is encrypted with the files) has one row per file and kind of other people's data:
the entity type, how often it occurs and its masked previews, so the DPO knows what to
redact before disclosure. It is made from findings.parquet (masked previews and
fingerprints only), written 0600 under the state folder and removed once packaged."""
from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import NotFoundError
from ..home import ensure_home, fingerprint_key
from ..ledger import Ledger
from ..pipelines.outputs import FINDINGS_FILE
from ..pipelines.report_paths import item_id
from ..schema import sar_requests
from ..settings import Settings
from ..transfer.create import PackageResult, PasswordMethod, create_package
from ..transfer.selection import SelectedFile, select_files
from .requests import SarFound, find_request

INDEX_NAME = "SAR-index.csv"


@dataclass(frozen=True)
class SarExport:
    sar_id: str
    package: PackageResult
    files: int
    index_rows: int


def is_member(locator: str) -> bool:
    """A message of a mailbox or a member of an archive (not a file of its own)."""
    return "!/" in locator or "#" in locator


def index_rows(found: SarFound, scan_dir: Path, arcnames: dict[str, str]) -> list[list[object]]:
    """[file in the package, entity type, occurrences, masked previews] of the data of
    people other than the subject, per file."""
    locs = [h.locator for h in found.hits if h.path in arcnames]
    t = pq.read_table(scan_dir / FINDINGS_FILE,
                      columns=["locator", "entity_type", "preview", "fingerprint"])
    t = t.filter(pc.is_in(t["locator"], value_set=pa.array(locs)))
    path_of = {h.locator: h.path for h in found.hits}
    counts: Counter[tuple[str, str]] = Counter()
    previews: dict[tuple[str, str], list[str]] = {}
    mine = found.request.fingerprints
    for loc, ent, prev, fp in zip(*(t[c].to_pylist() for c in
                                    ("locator", "entity_type", "preview", "fingerprint"))):
        if ent == "SPECIAL_CATEGORY" or mine.get(fp or "") == ent:
            continue
        key = (arcnames[path_of[loc]], ent)
        counts[key] += 1
        seen = previews.setdefault(key, [])
        if prev and prev not in seen and len(seen) < 5:
            seen.append(prev)
    rows: list[list[object]] = [[f, e, n, ", ".join(previews[(f, e)])]
                                for (f, e), n in sorted(counts.items())]
    for f in sorted(set(arcnames.values()) - {k[0] for k in counts}):
        rows.append([f, "", 0, "no other person's data found"])
    return rows


def export_request(settings: Settings, ledger: Ledger, sar_id: str, *, out_dir: Path,
                   password: str | None = None) -> SarExport:
    """Package the person's files with the index; the passphrase is generated (shown once)
    unless one is given."""
    found = find_request(ledger, sar_id)
    if not found.hits:
        raise NotFoundError(f"the latest scan holds nothing of {sar_id}'s subject",
                            hint="check the values given to `sar open`, or scan again")
    members = [h for h in found.hits if is_member(h.locator)]
    paths: list[Path | str] = sorted({h.path for h in found.hits if not is_member(h.locator)})
    if not paths:
        raise NotFoundError(f"every item of {sar_id} is inside a mailbox or an archive",
                            hint="extract them by hand (`dataward sar find`, `dataward show`)")
    sel = select_files(paths, settings)   # the same rules and names as create_package
    arcnames = {f.path: f.arcname for f in sel.files}
    scan_dir = Path(ledger.get_scan(found.scan_id).out_dir)
    rows = index_rows(found, scan_dir, arcnames)
    key = fingerprint_key(settings)
    rows += [[f"(not in this package) item {item_id(key, h.locator)}",
              "inside a mailbox or an archive", 0, "extract it by hand: dataward show ITEM"]
             for h in members]
    folder = ensure_home(settings) / "sar"
    folder.mkdir(mode=0o700, exist_ok=True)
    index = folder / f"{sar_id}-index.csv"
    fd = os.open(index, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "other people's data", "occurrences", "masked previews"])
        w.writerows(rows)
    try:
        st = index.stat()
        extra = SelectedFile(str(index), INDEX_NAME, st.st_size, st.st_mtime, 0)
        res = create_package(settings, paths, recipient=f"data subject ({sar_id})",
                             method=PasswordMethod(password), out_dir=out_dir,
                             purpose=f"subject access request {sar_id}", extra_files=[extra])
    finally:
        index.unlink(missing_ok=True)
    with ledger.begin() as conn:
        conn.execute(sar_requests.update().where(sar_requests.c.sar_id == sar_id)
                     .values(package_id=res.package_id))
        ledger.audit("sar.export", sar_id, conn=conn, package_id=res.package_id,
                     files=len(paths), scan_id=found.scan_id)
    return SarExport(sar_id, res, len(paths), len(rows))
