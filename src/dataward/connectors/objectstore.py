"""Object stores: where backup repositories live.

One small interface, three implementations:

* ``LocalStore``: a folder (the second device: a USB disk, a NAS mount). Writes are
  atomic (temporary file, fsync, rename); symlinks are never followed.
* ``S3Store`` (``s3store``): an S3-compatible bucket through botocore (AWS, Wasabi, Backblaze B2, a NAS
  running an S3 server). With Object Lock, every object is written in COMPLIANCE mode
  with a retain-until date: nobody, the account owner included, can delete or shorten it.
* ``MemoryStore``: an in-memory fake with the same lock semantics, for unit tests.

Keys are relative, ``/``-separated (``packs/ab12...``). Errors become dataward errors:
a missing object is ``NotFoundError``, a refused delete is ``RefusedError``, a network
fault is ``TransientError``.
"""
from __future__ import annotations

import builtins
import errno
import io
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import ConfigError, NotFoundError, PathOutsideRootsError, RefusedError

# sendfile(2) refusing a pair of files (an old kernel, a filesystem without it): copy instead
_NO_SENDFILE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV}


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


@dataclass(frozen=True)
class VersionState:
    """An object of a versioned store that someone touched after it was written."""

    key: str
    hidden: bool    # the current version is a delete marker
    versions: int   # versions holding data (an object dataward wrote once has one)


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise PathOutsideRootsError(f"invalid object key {key!r}")
    return key


class ObjectStore(ABC):
    """What a backup repository needs from a place that holds objects."""

    #: True when the store enforces retain-until dates (Object Lock).
    supports_lock: bool = False

    @abstractmethod
    def put(self, key: str, data: bytes, *, retain_until: datetime | None = None) -> None: ...

    def put_file(self, key: str, fh: BinaryIO, size: int, *,
                 retain_until: datetime | None = None) -> None:
        """Like ``put``, from a file positioned at the object's first byte (``size``
        bytes), so large objects need not sit in memory."""
        self.put(key, fh.read(size), retain_until=retain_until)

    @abstractmethod
    def get(self, key: str) -> bytes: ...

    def open_stream(self, key: str) -> BinaryIO:
        """The object's bytes as a stream to read front to back (close it after)."""
        return io.BytesIO(self.get(key))

    @abstractmethod
    def list(self, prefix: str = "") -> builtins.list[ObjectInfo]: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object and all its versions; RefusedError while a lock holds it."""

    def exists(self, key: str) -> bool:
        try:
            self.get(key)
        except NotFoundError:
            return False
        return True

    def retention(self, key: str) -> datetime | None:
        """The retain-until date of the current version, or None."""
        return None

    def extend_retention(self, key: str, until: datetime) -> None:
        """Move the retain-until date later (never earlier)."""
        return None  # a store without object lock has no date to move

    def older_versions(self, key: str) -> builtins.list[bytes]:
        """Bodies of earlier versions, newest first (versioned stores only)."""
        return []

    def touched(self, prefix: str = "") -> builtins.list[VersionState]:
        """Objects hidden by a delete marker or holding more than one version (versioned
        stores only: an unversioned store keeps no trace of either)."""
        return []

    @abstractmethod
    def describe(self) -> str: ...


class LocalStore(ObjectStore):
    """A folder. Creates it on first write; never follows a symlink inside it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))

    def describe(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        p = self.root.joinpath(*_check_key(key).split("/"))
        probe = self.root
        for part in p.relative_to(self.root).parts[:-1]:
            probe = probe / part
            if probe.is_symlink():
                raise PathOutsideRootsError(f"refusing a symlink inside the target: {probe}")
        return p

    def put(self, key: str, data: bytes, *, retain_until: datetime | None = None) -> None:
        self._write(key, lambda out: out.write(data))

    def put_file(self, key: str, fh: BinaryIO, size: int, *,
                 retain_until: datetime | None = None) -> None:
        def copy(out: BinaryIO) -> None:
            left, pos = size, fh.tell()
            try:  # in the kernel (a file to a file): no buffer in this process
                while left > 0:
                    sent = os.sendfile(out.fileno(), fh.fileno(), pos, left)
                    if not sent:
                        raise OSError(f"object {key}: its spool file ended early")
                    pos, left = pos + sent, left - sent
                return
            except OSError as exc:  # io.UnsupportedOperation (no fileno) is one too
                if left < size or not (isinstance(exc, io.UnsupportedOperation)
                                       or exc.errno in _NO_SENDFILE):
                    raise
                fh.seek(pos)  # no sendfile here, or not a real file: copy by blocks
            while left > 0:
                block = fh.read(min(left, 1 << 20))
                if not block:
                    raise OSError(f"object {key}: its spool file ended early")
                out.write(block)
                left -= len(block)
        self._write(key, copy)

    def _write(self, key: str, fill: Callable[[BinaryIO], object]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        with self.open_stream(key) as fh:
            return fh.read()

    def open_stream(self, key: str) -> BinaryIO:
        try:
            fd = os.open(self._path(key), os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise NotFoundError(f"object {key} is missing from {self.root}") from None
        except OSError as exc:
            raise NotFoundError(f"cannot read object {key} in {self.root}: {exc.strerror}") from None
        return os.fdopen(fd, "rb")

    def exists(self, key: str) -> bool:
        p = self._path(key)
        return p.is_file() and not p.is_symlink()

    def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        base = self.root.joinpath(*prefix.rstrip("/").split("/")) if prefix.strip("/") else self.root
        if not base.is_dir() or base.is_symlink():
            return []
        found: builtins.list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            for name in filenames:
                full = os.path.join(dirpath, name)
                if name.startswith(".") or os.path.islink(full):
                    continue
                rel = os.path.relpath(full, self.root).replace(os.sep, "/")
                if rel.startswith(prefix):
                    try:
                        found.append(ObjectInfo(rel, os.lstat(full).st_size))
                    except FileNotFoundError:
                        continue  # removed while we listed (a lock replaced or released)
        return sorted(found, key=lambda o: o.key)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass


class MemoryStore(ObjectStore):
    """In-memory fake with versioning and COMPLIANCE-mode locks, for unit tests."""

    supports_lock = True

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        # key -> versions, oldest first: [data, retain_until]
        self.objects: dict[str, list[list[Any]]] = {}
        self.requests = 0

    def describe(self) -> str:
        return "memory"

    def put(self, key: str, data: bytes, *, retain_until: datetime | None = None) -> None:
        self.requests += 1
        self.objects.setdefault(_check_key(key), []).append([bytes(data), retain_until])

    def get(self, key: str) -> bytes:
        self.requests += 1
        if key not in self.objects:
            raise NotFoundError(f"object {key} is missing")
        return self.objects[key][-1][0]

    def exists(self, key: str) -> bool:
        return key in self.objects

    def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        self.requests += 1
        return [ObjectInfo(k, len(v[-1][0])) for k, v in sorted(self.objects.items())
                if k.startswith(prefix)]

    def delete(self, key: str) -> None:
        self.requests += 1
        versions = self.objects.get(key, [])
        now = self.clock()
        if any(v[1] is not None and v[1] > now for v in versions):
            raise RefusedError(f"object {key} is locked (Object Lock) and cannot be deleted yet")
        self.objects.pop(key, None)

    def retention(self, key: str) -> datetime | None:
        if key not in self.objects:
            raise NotFoundError(f"object {key} is missing")
        return self.objects[key][-1][1]

    def extend_retention(self, key: str, until: datetime) -> None:
        current = self.retention(key)
        if current is not None and until < current:
            raise RefusedError(f"the lock on {key} cannot be shortened (COMPLIANCE mode)")
        self.objects[key][-1][1] = until

    def older_versions(self, key: str) -> builtins.list[bytes]:
        return [v[0] for v in reversed(self.objects.get(key, [])[:-1])]


def open_store(url: str, *, endpoint_url: str | None = None, region: str | None = None,
               profile: str | None = None, object_lock: bool = False) -> ObjectStore:
    """A store from a target URL: ``s3://bucket/prefix``, ``file:///path`` or a path."""
    if url.startswith("s3://"):
        from .s3store import S3Store
        rest = url[5:]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise ConfigError(f"target {url!r} names no bucket (use s3://bucket/prefix)")
        return S3Store(bucket, prefix, endpoint_url=endpoint_url, region=region,
                       profile=profile, object_lock=object_lock)
    if "://" in url and not url.startswith("file://"):
        raise ConfigError(f"target {url!r}: only local folders and s3:// URLs are supported")
    if object_lock:
        raise ConfigError(f"target {url!r}: object_lock_days needs an s3:// target "
                          "(a local folder cannot enforce a lock)")
    return LocalStore(Path(url.removeprefix("file://")).expanduser())
