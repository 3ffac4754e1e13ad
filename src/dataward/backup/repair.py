"""Objects someone hid or overwrote on a versioned (Object Lock) bucket, and `backup repair`.

Ransomware holding the school server's S3 credentials cannot delete or alter a locked
version, but it can stack a delete marker on top (``DeleteObject`` without a version id)
or upload a new version over it. Reads and lists already look through both to the
newest intact version (``S3Store``, ``Repository.get_checked``); ``examine`` says what
happened to each touched object (``verify`` reports it), and ``repair`` makes the intact
version current again by writing it anew (with the target's lock).
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field

from ..connectors.objectstore import VersionState
from ..errors import IntegrityError, NotFoundError
from .format import TYPE_INDEX, TYPE_PACK, TYPE_SNAPSHOT, check_object
from .repository import Repository, _config_mac

KINDS = {"packs": TYPE_PACK, "index": TYPE_INDEX, "snapshots": TYPE_SNAPSHOT}
ARMOUR = b"-----BEGIN PGP MESSAGE-----"


@dataclass(frozen=True)
class Finding:
    key: str
    what: str                    # "hidden by a delete marker" | "overwritten"
    intact: bytes | None = field(default=None, repr=False)  # None: no intact version left

    def describe(self) -> str:
        kind, _, name = self.key.partition("/")
        label = f"{kind.rstrip('s')} {name[:12]}" if name else kind
        tail = ("an intact version remains: `dataward backup repair` makes it current again"
                if self.intact is not None else "NO intact version remains")
        return f"{label} is {self.what} ({tail})"


@dataclass(frozen=True)
class RepairResult:
    restored: list[str] = field(default_factory=list)
    unrepairable: list[str] = field(default_factory=list)


def _intact(repo: Repository, key: str, data: bytes) -> bool:
    kind = KINDS.get(key.split("/", 1)[0])
    if kind is not None:
        try:
            check_object(repo.keys, key, data, kind)
            return True
        except IntegrityError:
            return False
    if key == "config":
        try:
            doc = json.loads(data)
        except ValueError:
            return False
        return isinstance(doc, dict) and doc.get("id") == repo.id and \
            hmac.compare_digest(_config_mac(repo.keys, doc), str(doc.get("mac", "")))
    return data.lstrip().startswith(ARMOUR)  # keys/: only a recovery key can check more


def examine(repo: Repository, state: VersionState) -> Finding | None:
    """What happened to one touched object, with its newest intact version; None when
    its current version is intact (an object written twice, say)."""
    store = repo.store
    try:
        newest = store.get(state.key)  # the current version, or the newest under a marker
    except NotFoundError:
        return Finding(state.key, "hidden by a delete marker")
    if not state.hidden and _intact(repo, state.key, newest):
        return None
    what = "hidden by a delete marker" if state.hidden else "overwritten"
    for data in [newest, *store.older_versions(state.key)]:
        if _intact(repo, state.key, data):
            if data is not newest and state.hidden:
                what = "hidden by a delete marker over an overwrite"
            return Finding(state.key, what, data)
    return Finding(state.key, what)


def findings(repo: Repository) -> list[Finding]:
    out = []
    for state in repo.store.touched(""):
        if state.key.startswith("locks/"):
            continue
        f = examine(repo, state)
        if f is not None:
            out.append(f)
    return out


def repair(repo: Repository) -> RepairResult:
    """Write the newest intact version of every hidden or overwritten object again as
    its current version (locked for the target's lock period)."""
    result = RepairResult()
    for f in findings(repo):
        if f.intact is None:
            result.unrepairable.append(f.describe())
            continue
        if repo.held is not None:
            repo.held.check()
        repo.put(f.key, f.intact)
        result.restored.append(f.describe().split(" (")[0])
    return result
