"""The backup jobs as the CLI and flows call them: settings in, typed results out.

Each job works on the configured targets, or on one ``--target`` (a configured target's
name, a folder, or ``s3://bucket/prefix``), and records what it did in the ledger.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..connectors.objectstore import ObjectStore, open_store
from ..connectors.s3store import S3Store
from ..errors import ConfigError, PartialError, RefusedError, RepositoryMissingError
from ..home import ensure_home
from ..settings import Settings
from .crypto import MasterKeys
from .keys import check_recipients, save_local_keys, wrap_keys
from .locks import LockInfo, LockTimes, RepoLock, remove_locks
from .policy import Policy
from .prune import PrunePlan, PruneResult, prune
from .repair import RepairResult, repair
from .repository import RepoParams, Repository, SnapshotInfo
from .restore import RestoreResult, restore
from .run import BackupResult, run_backup
from .verify import VerifyResult, verify

if TYPE_CHECKING:
    from ..ledger import Ledger

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    store: ObjectStore
    lock_days: int


def resolve_targets(settings: Settings, target: str | None = None, *,
                    object_lock_days: int | None = None, writing: bool = False) -> list[Target]:
    """The configured targets, or the one named/given by ``target``.

    An ad hoc ``s3://`` target on a bucket with Object Lock is read through its versions
    like a configured one; writing to it needs ``object_lock_days`` (the command line's
    ``--object-lock-days``), so nothing lands there unlocked by accident."""
    cfg = settings.backup.targets
    chosen = [t for t in cfg if target is None or t.name == target]
    if target is not None and not chosen:
        url = target if target.startswith("s3://") else os.path.abspath(target)
        days = object_lock_days or 0
        store = open_store(url, object_lock=days > 0)
        if isinstance(store, S3Store) and not days and store.lock_enabled():
            if writing:
                raise ConfigError(
                    f"bucket {store.bucket} has Object Lock: say how long each object is "
                    "locked with --object-lock-days N (or configure the target with "
                    "object_lock_days)")
            store.supports_lock = store.versioned = True
        return [Target(target, url, store, days)]
    if object_lock_days is not None:
        raise ConfigError("--object-lock-days applies to an ad hoc --target only; a "
                          "configured target takes object_lock_days from the config")
    if not chosen:
        raise ConfigError("no backup target", hint="add backup.targets to the config, "
                          "or pass --target FOLDER|s3://bucket/prefix")
    return [Target(t.name, t.url, open_store(
        t.url, endpoint_url=t.endpoint_url, region=t.region, profile=t.profile,
        object_lock=t.object_lock_days > 0), t.object_lock_days) for t in chosen]


def _ledger(settings: Settings) -> Ledger:
    """The ledger, imported when a job records what it did: SQLAlchemy is a large part of
    a quick command's start (an unchanged run, a small restore)."""
    from ..ledger import Ledger
    return Ledger.for_settings(settings)


class _LedgerSoon:
    """The ledger, imported and opened on a thread while the job waits on the network and
    its lock settles, instead of after its last request. The thread imports only what the
    ledger needs (SQLAlchemy, the schema), modules the job's own thread never imports, so
    the two cannot wait on each other's imports."""

    def __init__(self, settings: Settings) -> None:
        self._out: list[Ledger | BaseException] = []
        self._thread = threading.Thread(target=self._open, args=(settings,), name="dw-ledger",
                                        daemon=True)
        self._thread.start()

    def _open(self, settings: Settings) -> None:
        try:
            self._out.append(_ledger(settings))
        except BaseException as exc:  # noqa: BLE001 - raised again by ``get`` in the job's thread
            self._out.append(exc)

    def get(self) -> Ledger:
        self._thread.join()
        if isinstance(self._out[0], BaseException):
            raise self._out[0]
        return self._out[0]

    def close(self) -> None:
        self._thread.join()
        if not isinstance(self._out[0], BaseException):
            self._out[0].close()


def _params(settings: Settings) -> RepoParams:
    avg = settings.backup.chunk_avg_kib * 1024
    return RepoParams(chunk_min=avg // 4, chunk_avg=avg, chunk_max=avg * 4,
                      pack_size=int(settings.backup.pack_size_mb * 1024 * 1024))


def _dirs(settings: Settings) -> tuple[Path, Path]:
    home = ensure_home(settings)
    return settings.keys_dir, home / "backup"


def _lock_times(settings: Settings) -> LockTimes:
    b = settings.backup
    return LockTimes(refresh=b.lock_refresh_seconds, stale=b.lock_stale_seconds,
                     settle=min(0.2, b.lock_refresh_seconds / 10))


def _gnupghome(settings: Settings, gnupghome: Path | None) -> Path | None:
    return gnupghome or settings.backup.gnupghome


def join_target(settings: Settings, t: Target, *, gnupghome: Path | None = None,
                passphrase: str | None = None) -> Repository:
    """Let this server write to an existing repository (a rebuilt server): open its keys
    with a recovery key once and keep the writer keys here."""
    keys_dir, cache_dir = _dirs(settings)
    keys = Repository.recovery_keys(t.store, _gnupghome(settings, gnupghome), passphrase)
    save_local_keys(keys_dir, keys, write_only=settings.backup.write_only)
    repo = Repository.open(t.store, keys_dir, cache_dir, lock_days=t.lock_days,
                           lock_times=_lock_times(settings))
    with _ledger(settings) as ledger:
        ledger.audit("backup.join", t.name, repo=keys.repo_id,
                     write_only=settings.backup.write_only)
    return repo


def init_target(settings: Settings, t: Target, *, recovery_keys: list[str] | None = None,
                gnupghome: Path | None = None) -> Repository:
    """Create a repository at ``t``: new keys, wrapped to the recovery keys."""
    gh = _gnupghome(settings, gnupghome)
    recipients = check_recipients(recovery_keys or settings.backup.recovery_keys, gh)
    keys = MasterKeys.generate()
    key_obj = wrap_keys(keys, recipients, gh)
    keys_dir, cache_dir = _dirs(settings)
    repo = Repository.create(t.store, keys, key_obj, recipients, cache_dir,
                             params=_params(settings), lock_days=t.lock_days,
                             lock_times=_lock_times(settings))
    save_local_keys(keys_dir, keys, write_only=settings.backup.write_only)
    with _ledger(settings) as ledger:
        ledger.audit("backup.init", t.name, repo=keys.repo_id, recipients=recipients,
                     write_only=settings.backup.write_only)
    return repo


def open_repo(settings: Settings, t: Target, *, gnupghome: Path | None = None,
              use_recovery_key: bool = False, passphrase: str | None = None) -> Repository:
    keys_dir, cache_dir = _dirs(settings)
    return Repository.open(t.store, keys_dir, cache_dir,
                           gnupghome=_gnupghome(settings, gnupghome),
                           use_recovery_key=use_recovery_key, passphrase=passphrase,
                           lock_days=t.lock_days, lock_times=_lock_times(settings))


def backup_run(settings: Settings, *, target: str | None = None,
               sources: list[Path] | None = None, recovery_keys: list[str] | None = None,
               gnupghome: Path | None = None, object_lock_days: int | None = None,
               progress: Callable[[str], Progress] | None = None) -> list[BackupResult]:
    """Back up the sources to every target; a new target is initialised when recovery
    keys are known. Raises PartialError (after recording) when files were unreadable."""
    roots = sources or settings.backup.paths
    if not roots:
        raise ConfigError("nothing to back up", hint="set backup.paths or name folders: "
                          "dataward backup run --target T FOLDER...")
    results = []
    targets = resolve_targets(settings, target, object_lock_days=object_lock_days, writing=True)
    ledger = _LedgerSoon(settings)  # after the S3 clients: while the first lock settles
    try:
        for t in targets:
            try:
                repo = open_repo(settings, t)
            except RepositoryMissingError:
                if not (recovery_keys or settings.backup.recovery_keys):
                    raise
                repo = init_target(settings, t, recovery_keys=recovery_keys,
                                   gnupghome=gnupghome)
            with repo:
                result = run_backup(repo, roots, excludes=settings.backup.exclude,
                                    zstd_level=settings.backup.zstd_level, target_name=t.name,
                                    lock_wait=settings.backup.lock_wait_seconds,
                                    progress=progress(t.name) if progress else None)
            opened = ledger.get()  # its thread imported SQLAlchemy: records' imports are ready
            from .records import record_snapshot
            record_snapshot(opened, result)
            results.append(result)
    finally:
        ledger.close()
    failed = sum(r.errors for r in results)
    if failed:
        raise PartialError(f"backup finished, but {failed} files or folders could not be read; "
                           "see the permissions of the backed-up folders")
    return results


def backup_list(settings: Settings, *, target: str | None = None) \
        -> list[tuple[Target, list[SnapshotInfo]]]:
    out = []
    for t in resolve_targets(settings, target):
        with open_repo(settings, t) as repo:
            out.append((t, repo.snapshots()))
    return out


def backup_restore(settings: Settings, snapshot: str, dest: Path, *,
                   paths: list[str] | None = None, target: str | None = None,
                   gnupghome: Path | None = None, passphrase: str | None = None,
                   overwrite: bool = False, progress: Progress | None = None) -> RestoreResult:
    t = resolve_targets(settings, target)[0]
    use_recovery = settings.backup.write_only or gnupghome is not None
    # The lock first: the recovery key opens the repository's keys (gpg) and the ledger
    # opens while it settles; ``restore`` confirms it before the first pack is read.
    lock = _begin_shared_lock(t.store, settings)
    ledger = _LedgerSoon(settings)
    try:
        try:
            repo = open_repo(settings, t, gnupghome=gnupghome, use_recovery_key=use_recovery,
                             passphrase=passphrase)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        with repo:
            repo.held = lock
            snap = repo.find_snapshot(snapshot)
            result = restore(repo, snap, dest, includes=paths, overwrite=overwrite,
                             progress=progress)
        ledger.get().audit("backup.restore", t.name, snapshot=snap.id, files=result.files,
                           bytes=result.bytes, damaged=len(result.damaged))
    finally:
        ledger.close()
    return result


def backup_verify(settings: Settings, *, target: str | None = None, read_data: float = 0.0,
                  gnupghome: Path | None = None, passphrase: str | None = None,
                  progress: Progress | None = None) -> list[VerifyResult]:
    out = []
    for t in resolve_targets(settings, target):
        with open_repo(settings, t, gnupghome=gnupghome, use_recovery_key=gnupghome is not None,
                       passphrase=passphrase) as repo:
            _shared_lock(repo)
            res = verify(repo, read_data_percent=read_data, progress=progress)
        with _ledger(settings) as ledger:
            ledger.audit("backup.verify", t.name, ok=res.ok, problems=len(res.problems),
                         packs_read=res.packs_read, read_data=read_data)
        out.append(res)
    return out


def policy_from(settings: Settings, **overrides: int | None) -> Policy:
    b = settings.backup
    vals = {k: getattr(b, k) for k in ("keep_last", "keep_daily", "keep_weekly",
                                       "keep_monthly", "keep_yearly")}
    vals.update({k: v for k, v in overrides.items() if v is not None})
    return Policy(**vals)


def backup_prune(settings: Settings, *, target: str | None = None, apply: bool = False,
                 policy: Policy | None = None) -> list[tuple[Target, PrunePlan, PruneResult | None]]:
    out = []
    policy = policy or policy_from(settings)
    for t in resolve_targets(settings, target):
        with open_repo(settings, t) as repo:
            plan, result = prune(repo, policy, apply=apply)
        if result is not None:
            with _ledger(settings) as ledger:
                ledger.audit("backup.prune", t.name, snapshots_deleted=result.snapshots_deleted,
                             packs_deleted=result.packs_deleted, refused=result.refused,
                             bytes_freed=result.bytes_freed)
        out.append((t, plan, result))
    return out


def _begin_shared_lock(store: ObjectStore, settings: Settings) -> RepoLock | None:
    """A reader's shared lock, begun (``RepoLock.begin``) before the repository is opened;
    None when the store refuses the lock object, as in ``_shared_lock``."""
    try:
        return RepoLock(store, "shared", _lock_times(settings)).begin()
    except RefusedError:
        return None


def _shared_lock(repo: Repository) -> None:
    """Readers take a shared lock so a prune cannot remove data under them; a store that
    refuses the lock object (read-only credentials, a recovery machine) is read anyway."""
    try:
        repo.lock("shared")
    except RefusedError:
        pass


def backup_unlock(settings: Settings, *, target: str | None = None,
                  force: bool = False) -> list[tuple[Target, list[LockInfo]]]:
    """Remove stale locks (runs that died or stopped refreshing); every lock with
    ``force``. Needs no keys: locks are plaintext."""
    out = []
    for t in resolve_targets(settings, target):
        removed = remove_locks(t.store, _lock_times(settings), force=force)
        if removed:
            with _ledger(settings) as ledger:
                ledger.audit("backup.unlock", t.name, removed=len(removed), force=force)
        out.append((t, removed))
    return out


def backup_repair(settings: Settings, *, target: str | None = None) \
        -> list[tuple[Target, RepairResult]]:
    """Make the newest intact version of every object hidden by a delete marker or
    overwritten the current one again."""
    out = []
    for t in resolve_targets(settings, target):
        with open_repo(settings, t) as repo:
            repo.lock("shared")
            result = repair(repo)
        with _ledger(settings) as ledger:
            ledger.audit("backup.repair", t.name, restored=len(result.restored),
                         unrepairable=len(result.unrepairable))
        out.append((t, result))
    return out
