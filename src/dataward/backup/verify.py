"""`backup verify`: check the repository's structure, and optionally its data.

On a versioned (Object Lock) bucket, objects hidden by a delete marker or overwritten
are named first ("hidden by a delete marker", "overwritten"), and checked through their
newest intact version. Without ``--read-data`` every index and snapshot object is fetched and checked (name
hash, MAC) and every chunk a snapshot needs must be in a live index and its pack in the
store. ``--read-data PERCENT`` also downloads that share of the packs (chosen at random)
and checks each pack's hash and MAC; with the private key (a recovery key) every chunk
is also decrypted and checked against its id. The writer keys alone can do all but the
last step, so the school server can verify its own backups in write-only mode.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import IntegrityError, NotFoundError
from .format import TYPE_INDEX, TYPE_SNAPSHOT, BlobRef, check_object, decode_index, \
    decode_snapshot_summary, open_pack, read_blob
from .repair import findings
from .repository import Repository


@dataclass(frozen=True)
class VerifyResult:
    target: str
    snapshots: int
    indexes: int
    packs: int
    packs_read: int
    chunks_decrypted: int
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(repo: Repository, *, read_data_percent: float = 0.0, seed: int | None = None,
           progress: Callable[[int, int], None] | None = None) -> VerifyResult:
    problems: list[str] = []
    warnings: list[str] = []
    store = repo.store
    packs_listed = {o.key: o.size for o in store.list("packs/")}

    # Objects hidden by a delete marker or overwritten (versioned buckets): named, and
    # read through to their intact version below.
    touched = findings(repo)
    problems += [f.describe() for f in touched]
    intact = {f.key: f.intact for f in touched if f.intact is not None}

    # Indexes: fetch every one afresh (not from the cache) and check it.
    docs = {}
    for o in store.list("index/"):
        try:
            data = intact.get(o.key) or store.get(o.key)
            check_object(repo.keys, o.key, data, TYPE_INDEX)
            docs[o.key] = decode_index(repo.keys, o.key, data)
        except (IntegrityError, NotFoundError) as exc:
            problems.append(f"index {o.key[6:18]}: {exc}")
    superseded = {s for d in docs.values() for s in d.supersedes}
    index: dict[bytes, BlobRef] = {}
    by_pack: dict[str, list[tuple[bytes, BlobRef]]] = {}
    for name, doc in docs.items():
        if name in superseded:
            continue
        for pack, entries in doc.packs.items():
            for cid_hex, off, ln, raw in entries:
                cid = bytes.fromhex(cid_hex)
                ref = BlobRef(pack, off, ln, raw)
                index[cid] = ref
                by_pack.setdefault(pack, []).append((cid, ref))

    # Snapshots: check each, and that every chunk it needs is indexed and stored.
    snap_objs = store.list("snapshots/")
    for o in snap_objs:
        short = o.key.split("/")[1][:8]
        try:
            data = intact.get(o.key) or store.get(o.key)
            check_object(repo.keys, o.key, data, TYPE_SNAPSHOT)
            summary = decode_snapshot_summary(repo.keys, o.key, data)
        except (IntegrityError, NotFoundError) as exc:
            problems.append(f"snapshot {short}: {exc}")
            continue
        from .crypto import unb64
        packed = unb64(summary.get("chunks", ""))
        chunks = [packed[i:i + 32] for i in range(0, len(packed), 32)]
        unindexed = sum(1 for c in chunks if c not in index)
        lost = sum(1 for c in chunks if c in index and index[c].pack not in packs_listed)
        if unindexed:
            problems.append(f"snapshot {short}: {unindexed} chunks are in no index")
        if lost:
            problems.append(f"snapshot {short}: {lost} chunks are in packs missing from the store")

    orphans = [p for p in packs_listed if p not in by_pack]
    if orphans:
        warnings.append(f"{len(orphans)} packs are in no index (left by an interrupted run; "
                        "the next run reuses them, prune removes the rest)")

    # Data: a random share of the indexed packs.
    packs_read = decrypted = 0
    candidates = sorted(p for p in by_pack if p in packs_listed)
    if read_data_percent > 0 and candidates:
        n = min(len(candidates), max(1, math.ceil(len(candidates) * read_data_percent / 100)))
        chosen = random.Random(seed).sample(candidates, n)
        for i, name in enumerate(chosen):
            try:
                data = intact.get(name) or store.get(name)
                if repo.can_read_data:
                    key = open_pack(repo.keys, name, data)
                    for cid, ref in by_pack[name]:
                        read_blob(repo.keys, data, key, cid, ref)
                        decrypted += 1
                else:
                    from .format import TYPE_PACK
                    check_object(repo.keys, name, data, TYPE_PACK)
            except (IntegrityError, NotFoundError) as exc:
                problems.append(f"pack {name[6:18]}: {exc}")
            packs_read += 1
            if progress:
                progress(i + 1, n)
    return VerifyResult(store.describe(), len(snap_objs), len(docs), len(packs_listed),
                        packs_read, decrypted, problems, warnings)
