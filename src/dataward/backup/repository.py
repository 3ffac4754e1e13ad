"""A backup repository on one object store: create, open, read and write its objects.

Layout (docs/backup.md has the byte formats)::

    config              plaintext JSON: format, version, repo id, public key, chunker and
                        pack parameters, recipients; MAC'd with the writer keys
    keys/<sha256>       OpenPGP message to the recovery keys holding all the keys
    packs/<sha256>      encrypted chunks, ~16 MiB each
    index/<sha256>      which pack holds which chunk
    snapshots/<sha256>  one backup: summary + encrypted file tree
    locks/<random>      a lock (backup/locks.py): plaintext JSON, never retained
"""
from __future__ import annotations

import hmac
import builtins
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from ..connectors.objectstore import ObjectStore
from ..errors import (
    IntegrityError, NotFoundError, RepositoryMissingError, UsageError, WrongKeyError,
)
from .cache import RepoCache
from .crypto import MasterKeys, WriterKeys, b64, unb64
from .format import (
    TYPE_INDEX, TYPE_PACK, TYPE_SNAPSHOT, BlobRef, IndexDoc, check_object, decode_index,
    decode_snapshot_summary, decode_snapshot_tree,
)
from .keys import load_local_keys, unwrap_keys
from .locks import LockTimes, RepoLock

FORMAT = "dataward-backup"
VERSION = 1


@dataclass(frozen=True)
class RepoParams:
    chunk_min: int = 256 * 1024
    chunk_avg: int = 1024 * 1024
    chunk_max: int = 4 * 1024 * 1024
    pack_size: int = 16 * 1024 * 1024


@dataclass(frozen=True)
class SnapshotInfo:
    id: str          # the object's sha256 (its name under snapshots/)
    time: datetime
    host: str
    paths: list[str]
    files: int
    bytes: int
    summary: dict[str, Any] = field(repr=False, compare=False)

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def key(self) -> str:
        return f"snapshots/{self.id}"

    def chunk_ids(self) -> set[builtins.bytes]:  # `bytes` here is the field above
        raw = unb64(self.summary.get("chunks", ""))
        return {raw[i:i + 32] for i in range(0, len(raw), 32)}


def _config_mac(keys: WriterKeys, doc: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in doc.items() if k != "mac"}, sort_keys=True).encode()
    return hmac.digest(keys.mac_key, body, "sha256").hex()


def _config_ok(keys: WriterKeys, doc: dict[str, Any]) -> bool:
    return keys.repo_id == doc.get("id") and unb64(doc.get("public_key", "")) == keys.public_key \
        and hmac.compare_digest(_config_mac(keys, doc), str(doc.get("mac", "")))


def _older_configs(store: ObjectStore) -> list[dict[str, Any]]:
    out = []
    for raw in store.older_versions("config"):
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("version") == VERSION:
            out.append(doc)
    return out


class Repository:
    """An opened repository: its store, parameters, keys, and the server's cache."""

    def __init__(self, store: ObjectStore, config: dict[str, Any], keys: WriterKeys,
                 cache_dir: Path, *, lock_days: int = 0,
                 lock_times: LockTimes | None = None) -> None:
        self.store = store
        self.config = config
        self.keys = keys
        self.params = RepoParams(**config["params"])
        self.lock_days = lock_days if store.supports_lock else 0
        self.cache = RepoCache(cache_dir / keys.repo_id)
        self.lock_times = lock_times or LockTimes()
        self.held: RepoLock | None = None
        # Objects found damaged while reading (skipped, never trusted): name -> reason.
        self.damaged: dict[str, str] = {}

    @property
    def id(self) -> str:
        return self.keys.repo_id

    @property
    def can_read_data(self) -> bool:
        return isinstance(self.keys, MasterKeys) and bool(self.keys.private_key)

    def close(self) -> None:
        self.unlock()
        self.cache.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- create and open ------------------------------------------------------------
    @classmethod
    def create(cls, store: ObjectStore, keys: MasterKeys, key_object: tuple[str, bytes],
               recipients: list[str], cache_dir: Path, *, params: RepoParams | None = None,
               lock_days: int = 0, lock_times: LockTimes | None = None) -> Repository:
        if store.exists("config"):
            Repository.read_config(store)  # a newer format is refused with its own message
            raise UsageError(f"there is already a backup repository at {store.describe()}")
        p = params or RepoParams()
        doc: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "id": keys.repo_id,
            "public_key": b64(keys.public_key), "created": datetime.now(UTC).isoformat(),
            "params": p.__dict__, "recipients": recipients,
        }
        doc["mac"] = _config_mac(keys, doc)
        repo = cls(store, doc, keys, cache_dir, lock_days=lock_days, lock_times=lock_times)
        repo.put(key_object[0], key_object[1])
        repo.put("config", json.dumps(doc, indent=1).encode())
        return repo

    @staticmethod
    def read_config(store: ObjectStore) -> dict[str, Any]:
        try:
            raw = store.get("config")
        except NotFoundError:
            raise RepositoryMissingError(
                f"no backup repository at {store.describe()}",
                hint="create one with `dataward backup init --target ...`") from None
        try:
            doc = json.loads(raw)
        except ValueError:
            raise IntegrityError(f"the repository config at {store.describe()} is damaged") from None
        if doc.get("format") != FORMAT:
            raise RepositoryMissingError(f"{store.describe()} is not a dataward backup repository")
        version = doc.get("version")
        if not isinstance(version, int) or version < 1:
            raise IntegrityError(f"the repository config at {store.describe()} has no valid "
                                 "format version")
        if version > VERSION:
            raise UsageError(
                f"the repository at {store.describe()} has format version {version}, written "
                f"by a newer dataward; this dataward reads and writes version {VERSION} only",
                hint="upgrade dataward on this server (docs/backup.md, \"Versioning\"); "
                     "nothing was changed in the repository")
        if version < VERSION:  # no older format exists yet; a reader of v1 would migrate here
            raise UsageError(f"repository format version {version} is not supported")
        return doc

    @classmethod
    def open(cls, store: ObjectStore, keys_dir: Path, cache_dir: Path, *,
             gnupghome: Path | None = None, use_recovery_key: bool = False,
             passphrase: str | None = None, lock_days: int = 0,
             lock_times: LockTimes | None = None) -> Repository:
        """Open with the server's local keys, or (``use_recovery_key``) with a recovery
        key's secret half from ``gnupghome``."""
        doc = cls.read_config(store)
        keys: WriterKeys | None = None
        if use_recovery_key:
            keys = cls.recovery_keys(store, gnupghome, passphrase)
        else:
            keys = load_local_keys(keys_dir, doc["id"])
        if keys is None:
            raise WrongKeyError(
                f"this server holds no keys for the repository at {store.describe()}",
                hint="use --gnupghome with a recovery key, or `dataward backup init` "
                     "with a recovery key to let this server write to it")
        if not _config_ok(keys, doc):  # overwritten? an intact older version may remain
            doc = next((d for d in _older_configs(store) if _config_ok(keys, d)), doc)
        if not _config_ok(keys, doc):
            same_keys = keys.repo_id == doc.get("id") \
                and unb64(doc.get("public_key", "")) == keys.public_key
            if not same_keys and not use_recovery_key:
                raise WrongKeyError(
                    f"the keys do not match the repository at {store.describe()} "
                    "(another repository's keys, or its config was altered)")
            # The keys are this repository's (they match, or came from its own key
            # objects): a config they do not authenticate was edited. Damage, not a wrong key.
            raise IntegrityError(
                f"the repository config at {store.describe()} was altered: its MAC does not "
                "match the repository's keys",
                hint="put the config object back from a copy (`dataward backup repair` if an "
                     "intact version is still stored); do not write to this repository until then")
        return cls(store, doc, keys, cache_dir, lock_days=lock_days, lock_times=lock_times)

    @staticmethod
    def recovery_keys(store: ObjectStore, gnupghome: Path | None,
                      passphrase: str | None = None) -> MasterKeys:
        objs = store.list("keys/")
        if not objs:
            raise RepositoryMissingError(f"the repository at {store.describe()} has no key objects")
        last: WrongKeyError | None = None
        for o in objs:
            try:
                return unwrap_keys(store.get(o.key), gnupghome, passphrase)
            except WrongKeyError as exc:
                last = exc
        assert last is not None
        raise last

    # ---- writing ----------------------------------------------------------------------
    def retain_until(self) -> datetime | None:
        if not self.lock_days:
            return None
        return datetime.now(UTC).replace(microsecond=0) + timedelta(days=self.lock_days)

    def put(self, key: str, data: bytes) -> None:
        until = self.retain_until()
        self.store.put(key, data, retain_until=until)
        if until is not None:
            self.cache.set_retention(key, until)

    def put_file(self, key: str, fh: BinaryIO, size: int) -> None:
        """Like ``put``, from a file positioned at the object's first byte."""
        until = self.retain_until()
        self.store.put_file(key, fh, size, retain_until=until)
        if until is not None:
            self.cache.set_retention(key, until)

    def extend_locks(self, keys: list[str]) -> int:
        """Push the lock of each object to now + lock_days when less than half is left."""
        if not self.lock_days:
            return 0
        until = self.retain_until()
        assert until is not None
        margin = datetime.now(UTC) + timedelta(days=self.lock_days / 2)
        extended = 0
        for key in keys:
            current = self.cache.retention(key) or self.store.retention(key)
            if current is None or current < margin:
                self.store.extend_retention(key, until)
                self.cache.set_retention(key, until)
                extended += 1
            elif self.cache.retention(key) is None:
                self.cache.set_retention(key, current)
        return extended

    # ---- run locks (backup/locks.py) ------------------------------------------------
    def lock(self, kind: str = "shared", wait: float = 0.0, *, confirm: bool = True) -> RepoLock:
        """Take a repository lock; an exclusive lock (prune) excludes every other lock.
        ``wait``: seconds to keep trying while another process holds a conflicting one.
        With ``confirm=False`` only its first half is done (``RepoLock.begin``): the caller
        reads metadata while the lock settles, and calls ``confirm_lock`` before it writes
        anything or reads pack data."""
        lock = RepoLock(self.store, kind, self.lock_times)
        self.held = lock.acquire(wait) if confirm else lock.begin(wait)
        return self.held

    def confirm_lock(self) -> None:
        """Finish taking a lock begun with ``confirm=False`` (nothing once it is done)."""
        if self.held is not None:
            self.held.confirm()

    def unlock(self) -> None:
        held, self.held = self.held, None
        if held is not None:
            held.release()

    # ---- reading ----------------------------------------------------------------------
    def get_checked(self, key: str, kind: int) -> bytes:
        """An object whose name hash and MAC hold. On a versioned store an intact older
        version is used when the current one was overwritten; damage raises."""
        data = self.store.get(key)
        try:
            check_object(self.keys, key, data, kind)
            return data
        except IntegrityError:
            for older in self.store.older_versions(key):
                try:
                    check_object(self.keys, key, older, kind)
                    return older
                except IntegrityError:
                    continue
            raise

    def load_indexes(self) -> dict[str, IndexDoc]:
        """Every live index (not superseded by a newer one), cached on the server."""
        names = {o.key for o in self.store.list("index/")}
        cached = self.cache.index_objects()
        self.cache.drop_indexes(set(cached) - names)
        docs: dict[str, IndexDoc] = {}
        for name in sorted(names):
            data = cached.get(name)
            try:
                if data is None:
                    data = self.get_checked(name, TYPE_INDEX)
                    self.cache.put_index(name, data)
                docs[name] = decode_index(self.keys, name, data)
            except (IntegrityError, NotFoundError) as exc:
                self.damaged[name] = str(exc)
        superseded = {s for d in docs.values() for s in d.supersedes}
        return {n: d for n, d in docs.items() if n not in superseded}

    def load_index(self) -> dict[bytes, BlobRef]:
        index: dict[bytes, BlobRef] = {}
        for doc in self.load_indexes().values():
            for pack, entries in doc.packs.items():
                for cid, off, length, raw in entries:
                    index[bytes.fromhex(cid)] = BlobRef(pack, off, length, raw)
        return index

    def snapshots(self) -> list[SnapshotInfo]:
        """Every snapshot, oldest first (summaries only: no file names)."""
        out = []
        listed = self.store.list("snapshots/")
        cached = self.cache.summaries()
        self.cache.drop_summaries(set(cached) - {o.key for o in listed})
        for o in listed:
            try:
                if o.key in cached:
                    s = json.loads(cached[o.key])
                else:
                    data = self.get_checked(o.key, TYPE_SNAPSHOT)
                    s = decode_snapshot_summary(self.keys, o.key, data)
                    self.cache.put_summary(o.key, json.dumps(s))
            except (IntegrityError, NotFoundError) as exc:
                self.damaged[o.key] = str(exc)
                continue
            out.append(SnapshotInfo(o.key.split("/", 1)[1], datetime.fromisoformat(s["time"]), s.get("host", ""),
                                    s.get("paths", []), s.get("files", 0), s.get("bytes", 0), s))
        return sorted(out, key=lambda s: s.time)

    def find_snapshot(self, ref: str) -> SnapshotInfo:
        snaps = self.snapshots()
        ref = ref.removeprefix("snapshots/")
        bad = [k for k in self.damaged if k.startswith("snapshots/" + ref) and ref != "latest"]
        if bad:
            raise IntegrityError(f"snapshot {ref[:8]} is damaged and cannot be restored: "
                                 f"{self.damaged[bad[0]]}")
        if not snaps:
            raise NotFoundError(f"the repository at {self.store.describe()} has no snapshots")
        if ref == "latest":
            return snaps[-1]
        found = [s for s in snaps if s.id.startswith(ref)]
        if len(found) != 1:
            raise NotFoundError(f"no single snapshot matches {ref!r}",
                                hint="`dataward backup list` shows the snapshot ids")
        return found[0]

    def snapshot_tree(self, snap: SnapshotInfo) -> list[dict[str, Any]]:
        return decode_snapshot_tree(self.keys, snap.key, self.get_checked(snap.key, TYPE_SNAPSHOT))

    def get_pack(self, name: str) -> bytes:
        return self.get_checked(name, TYPE_PACK)

