"""`backup prune`: plan, then (only when asked) apply.

The plan applies the retention policy, then works out which packs no kept snapshot
needs. Nothing a lock protects is removed: a snapshot the policy drops while its Object
Lock holds stays (and so do the packs it needs) until a later prune after the lock ends.
Packs partly used are kept whole (no repacking). Applying deletes the dropped snapshots
first, then writes one new index (only the kept packs) that supersedes every old one,
then deletes packs and old indexes: ``kill -9`` at any point leaves a repository in
which every snapshot still present has all its data indexed and stored.

``prune`` plans and applies under one exclusive repository lock (``locks``), as restic
does: no backup can start between the plan and the deletions, and no backup is in
progress (its lock would be fresh). Before deleting anything, the lock is checked
strictly again. Packs this server's own interrupted runs uploaded but have not indexed
yet are kept for the next run to reuse.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..errors import RefusedError
from .format import IndexDoc, encode_index
from .policy import Decision, Policy, Snap, apply_policy
from .repository import Repository


@dataclass(frozen=True)
class PrunePlan:
    decision: Decision
    forget: list[str]                       # snapshot ids to delete now
    held: list[tuple[str, datetime]]        # dropped by policy, but locked until
    delete_packs: list[str]
    locked_packs: int
    keep_packs: list[str]
    old_indexes: list[str]
    bytes_freed: int
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    locked: list[tuple[str, datetime]] = field(default_factory=list)  # kept only for a lock

    @property
    def empty(self) -> bool:
        return not self.forget and not self.delete_packs


@dataclass(frozen=True)
class PruneResult:
    snapshots_deleted: int
    packs_deleted: int
    bytes_freed: int
    refused: int


def _locked_until(repo: Repository, key: str, now: datetime) -> datetime | None:
    if not repo.store.supports_lock:
        return None
    until = repo.cache.retention(key) or repo.store.retention(key)
    return until if until is not None and until > now else None


def plan_prune(repo: Repository, policy: Policy, *, now: datetime | None = None) -> PrunePlan:
    now = now or datetime.now(UTC)
    snaps = repo.snapshots()
    repo.load_indexes()
    if repo.damaged:
        raise RefusedError(
            f"prune refused: {len(repo.damaged)} index or snapshot objects are damaged, so "
            "what is still needed cannot be known", hint="run `dataward backup verify`")
    decision = apply_policy([Snap(s.id, s.time) for s in snaps], policy)
    by_id = {s.id: s for s in snaps}
    forget, held = [], []
    for s in decision.remove:
        until = _locked_until(repo, by_id[s.id].key, now)
        if until is None:
            forget.append(s.id)
        else:
            held.append((s.id, until))
    needed: set[bytes] = set()
    for sid in [s.id for s, _ in decision.keep] + [h[0] for h in held]:
        needed |= by_id[sid].chunk_ids()

    indexes = repo.load_indexes()
    sizes = {o.key: o.size for o in repo.store.list("packs/")}
    pack_chunks: dict[str, list[bytes]] = {}
    for doc in indexes.values():
        for pack, entries in doc.packs.items():
            pack_chunks.setdefault(pack, []).extend(bytes.fromhex(e[0]) for e in entries)
    pending = set(repo.cache.pending())
    keep_packs, delete_packs, locked = [], [], []
    for pack in sorted(set(sizes) | set(pack_chunks)):
        if pack in pending or any(c in needed for c in pack_chunks.get(pack, ())):
            keep_packs.append(pack)
        elif pack in sizes and (until := _locked_until(repo, pack, now)) is not None:
            keep_packs.append(pack)
            locked.append((pack, until))
        elif pack in sizes:
            delete_packs.append(pack)
    return PrunePlan(
        decision=decision, forget=forget, held=held, delete_packs=delete_packs,
        locked_packs=len(locked), keep_packs=keep_packs, locked=locked,
        old_indexes=sorted({o.key for o in repo.store.list("index/")}),
        bytes_freed=sum(sizes[p] for p in delete_packs) + sum(
            o.size for o in repo.store.list("snapshots/") if o.key.split("/")[1] in forget),
        reasons={s.id: r for s, r in decision.keep})


def prune(repo: Repository, policy: Policy, *, apply: bool = False,
          now: datetime | None = None) -> tuple[PrunePlan, PruneResult | None]:
    """Plan, and with ``apply`` carry out the plan, under one exclusive lock (a dry run
    takes a shared one: it changes nothing)."""
    repo.lock("exclusive" if apply else "shared")
    try:
        plan = plan_prune(repo, policy, now=now)
        return plan, (apply_prune(repo, plan) if apply else None)
    finally:
        repo.unlock()


def apply_prune(repo: Repository, plan: PrunePlan) -> PruneResult:
    """Carry out a plan made under the exclusive lock the caller still holds."""
    if repo.held is None or repo.held.kind != "exclusive":
        raise RefusedError("prune applies a plan only under the exclusive lock it was made in")
    if plan.empty:
        return PruneResult(0, 0, 0, 0)
    repo.held.ensure()
    # 1. the snapshots the policy drops: from here on nothing refers to their packs.
    deleted_snaps, refused_snaps = _delete(repo, [f"snapshots/{i}" for i in plan.forget])
    keep = set(plan.keep_packs)
    if refused_snaps:  # a lock we did not know of holds one: its packs stay too
        still = {c for s in repo.snapshots() if f"snapshots/{s.id}" in refused_snaps
                 for c in s.chunk_ids()}
        keep |= {p for p, cids in _pack_chunks(repo).items() if still & cids}
    # 2. one index naming only the packs kept, superseding every old index;
    indexes = repo.load_indexes()
    merged = IndexDoc(supersedes=plan.old_indexes)
    for doc in indexes.values():
        for pack, entries in doc.packs.items():
            if pack in keep:
                have = merged.packs.setdefault(pack, [])
                if not have:  # a pack named by two indexes (two runs adopted it) once
                    have.extend(entries)
    name, data = encode_index(repo.keys, merged)
    repo.put(name, data)
    repo.cache.put_index(name, data)
    # 3. then the packs, 4. then the old indexes (one a lock keeps stays, superseded).
    deleted_packs, refused_packs = _delete(repo, [p for p in plan.delete_packs if p not in keep])
    _, refused_indexes = _delete(repo, plan.old_indexes)
    refused = len(refused_snaps) + len(refused_packs) + len(refused_indexes)
    repo.cache.forget_files()  # chunk ids of deleted packs must not be trusted
    return PruneResult(deleted_snaps, deleted_packs, plan.bytes_freed, refused)


def _pack_chunks(repo: Repository) -> dict[str, set[bytes]]:
    out: dict[str, set[bytes]] = {}
    for doc in repo.load_indexes().values():
        for pack, entries in doc.packs.items():
            out.setdefault(pack, set()).update(bytes.fromhex(e[0]) for e in entries)
    return out


def _delete(repo: Repository, keys: list[str]) -> tuple[int, list[str]]:
    """(deleted, keys a lock refused to delete)."""
    deleted, refused = 0, []
    for key in keys:
        if repo.held is not None:
            repo.held.check()  # stop at once if the lock was lost (it never should be)
        try:
            repo.store.delete(key)
            deleted += 1
        except RefusedError:
            refused.append(key)
    return deleted, refused
