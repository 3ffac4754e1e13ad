"""Object stores: where backup repositories live.

One small interface, three implementations:

* ``LocalStore``: a folder (the second device: a USB disk, a NAS mount). Writes are
  atomic (temporary file, fsync, rename); symlinks are never followed.
* ``S3Store``: an S3-compatible bucket through boto3 (AWS, Wasabi, Backblaze B2, a NAS
  running an S3 server). With Object Lock, every object is written in COMPLIANCE mode
  with a retain-until date: nobody, the account owner included, can delete or shorten it.
* ``MemoryStore``: an in-memory fake with the same lock semantics, for unit tests.

Keys are relative, ``/``-separated (``packs/ab12...``). Errors become dataward errors:
a missing object is ``NotFoundError``, a refused delete is ``RefusedError``, a network
fault is ``TransientError``.
"""
from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import (
    ConfigError, NotFoundError, PathOutsideRootsError, RefusedError, RepositoryMissingError,
    TransientError,
)


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

    @abstractmethod
    def list(self, prefix: str = "") -> list[ObjectInfo]: ...

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

    def older_versions(self, key: str) -> list[bytes]:
        """Bodies of earlier versions, newest first (versioned stores only)."""
        return []

    def touched(self, prefix: str = "") -> list[VersionState]:
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
            left = size
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
        try:
            fd = os.open(self._path(key), os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise NotFoundError(f"object {key} is missing from {self.root}") from None
        except OSError as exc:
            raise NotFoundError(f"cannot read object {key} in {self.root}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as fh:
            return fh.read()

    def exists(self, key: str) -> bool:
        p = self._path(key)
        return p.is_file() and not p.is_symlink()

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        base = self.root.joinpath(*prefix.rstrip("/").split("/")) if prefix.strip("/") else self.root
        if not base.is_dir() or base.is_symlink():
            return []
        found: list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            for name in filenames:
                full = os.path.join(dirpath, name)
                if name.startswith(".") or os.path.islink(full):
                    continue
                rel = os.path.relpath(full, self.root).replace(os.sep, "/")
                if rel.startswith(prefix):
                    found.append(ObjectInfo(rel, os.lstat(full).st_size))
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

    def list(self, prefix: str = "") -> list[ObjectInfo]:
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

    def older_versions(self, key: str) -> list[bytes]:
        return [v[0] for v in reversed(self.objects.get(key, [])[:-1])]


class S3Store(ObjectStore):
    """A bucket (and prefix) on an S3-compatible server. Credentials come from the usual
    AWS places (environment, ~/.aws, instance role), or ``profile``."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, profile: str | None = None,
                 object_lock: bool = False, client: Any = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.supports_lock = object_lock
        # A bucket with Object Lock is versioned: reads and lists look past delete
        # markers and overwrites to the versions underneath.
        self.versioned = object_lock
        if client is None:
            session = boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
            client = session.client(
                "s3", endpoint_url=endpoint_url, region_name=region,
                config=Config(retries={"max_attempts": 5, "mode": "standard"},
                              max_pool_connections=8))
        self.client = client
        self.endpoint = endpoint_url or "aws"

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def _k(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def _call(self, what: str, key: str, fn: Callable[..., Any], **kw: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            return fn(Bucket=self.bucket, **kw)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise NotFoundError(f"object {key} is missing from {self.describe()}") from None
            if code == "NoSuchBucket":
                raise RepositoryMissingError(f"bucket {self.bucket} does not exist") from None
            if code in ("AccessDenied", "InvalidRequest", "ObjectLocked", "InvalidArgument"):
                raise RefusedError(f"the server refused to {what} {key} ({code}); "
                                   "Object Lock or the credentials' policy forbid it") from None
            if code in ("SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"):
                raise TransientError(f"the S3 server is busy ({code}); try again later") from None
            raise TransientError(f"S3 {what} {key} failed: {code}") from None
        except BotoCoreError as exc:
            raise TransientError(f"cannot reach the S3 server at {self.endpoint}: "
                                 f"{type(exc).__name__}") from None

    def put(self, key: str, data: bytes, *, retain_until: datetime | None = None) -> None:
        kw: dict[str, Any] = {"Key": self._k(key), "Body": data}
        if retain_until is not None and self.supports_lock:
            kw.update(ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=retain_until)
        self._call("write", key, self.client.put_object, **kw)

    def put_file(self, key: str, fh: BinaryIO, size: int, *,
                 retain_until: datetime | None = None) -> None:
        kw: dict[str, Any] = {"Key": self._k(key), "Body": fh, "ContentLength": size}
        if retain_until is not None and self.supports_lock:
            kw.update(ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=retain_until)
        self._call("write", key, self.client.put_object, **kw)

    def get(self, key: str) -> bytes:
        try:
            resp = self._call("read", key, self.client.get_object, Key=self._k(key))
        except NotFoundError:
            if not self.versioned:
                raise
            real = [v for v in self._versions(key) if "Size" in v]
            if not real:
                raise
            resp = self._call("read", key, self.client.get_object, Key=self._k(key),
                              VersionId=real[0]["VersionId"])
        return _read_body(resp)

    def exists(self, key: str) -> bool:
        try:
            self._call("read", key, self.client.head_object, Key=self._k(key))
        except NotFoundError:
            return self.versioned and any("Size" in v for v in self._versions(key))
        return True

    def _all_versions(self, prefix: str) -> dict[str, list[dict[str, Any]]]:
        """key -> its versions and delete markers, newest first."""
        out: dict[str, list[dict[str, Any]]] = {}
        kw: dict[str, Any] = {"Prefix": self.prefix + prefix}
        while True:
            resp = self._call("list versions of", prefix, self.client.list_object_versions, **kw)
            items = resp.get("Versions", []) + resp.get("DeleteMarkers", [])
            for v in items:
                out.setdefault(v["Key"][len(self.prefix):], []).append(v)
            if not resp.get("IsTruncated"):
                break
            kw.update(KeyMarker=resp.get("NextKeyMarker"),
                      VersionIdMarker=resp.get("NextVersionIdMarker"))
        for versions in out.values():
            versions.sort(key=lambda v: (not v.get("IsLatest"), -v["LastModified"].timestamp()))
        return out

    def touched(self, prefix: str = "") -> list[VersionState]:
        if not self.versioned:
            return []
        out = []
        for key, versions in sorted(self._all_versions(prefix).items()):
            real = sum(1 for v in versions if "Size" in v)
            hidden = "Size" not in versions[0]
            if real and (hidden or real > 1):
                out.append(VersionState(key, hidden, real))
        return out

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        if self.versioned:  # every object with a version holding data, marker or not
            return [ObjectInfo(k, int(next(v["Size"] for v in vs if "Size" in v)))
                    for k, vs in sorted(self._all_versions(prefix).items())
                    if any("Size" in v for v in vs)]
        found: list[ObjectInfo] = []
        token: str | None = None
        while True:
            kw: dict[str, Any] = {"Prefix": self.prefix + prefix}
            if token:
                kw["ContinuationToken"] = token
            resp = self._call("list", prefix, self.client.list_objects_v2, **kw)
            for o in resp.get("Contents", []):
                found.append(ObjectInfo(o["Key"][len(self.prefix):], int(o["Size"])))
            if not resp.get("IsTruncated"):
                return found
            token = resp["NextContinuationToken"]

    def _versions(self, key: str) -> list[dict[str, Any]]:
        resp = self._call("list versions of", key, self.client.list_object_versions,
                          Prefix=self._k(key))
        items = [v for v in resp.get("Versions", []) + resp.get("DeleteMarkers", [])
                 if v["Key"] == self._k(key)]
        return sorted(items, key=lambda v: (not v.get("IsLatest"), -v["LastModified"].timestamp()))

    def delete(self, key: str) -> None:
        versions = self._versions(key)
        if not versions:
            self._call("delete", key, self.client.delete_object, Key=self._k(key))
        for v in versions:
            self._call("delete", key, self.client.delete_object, Key=self._k(key),
                       VersionId=v["VersionId"])

    def retention(self, key: str) -> datetime | None:
        if not self.supports_lock:
            return None
        try:
            resp = self._call("read the lock of", key, self.client.get_object_retention,
                              **self._version_kw(key))
        except RefusedError:
            return None  # no retention set on this object
        return resp.get("Retention", {}).get("RetainUntilDate")

    def lock_enabled(self) -> bool:
        """True when the bucket has Object Lock turned on (then it is versioned too)."""
        try:
            resp = self._call("read the Object Lock setting of", self.bucket,
                              self.client.get_object_lock_configuration)
        except (RefusedError, NotFoundError, TransientError):
            return False  # not configured (or not readable with these credentials)
        return resp.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"

    def _version_kw(self, key: str) -> dict[str, Any]:
        """Key (and, when a delete marker hides it, the version id) of the newest version
        holding data: locks are read and extended on that version."""
        kw: dict[str, Any] = {"Key": self._k(key)}
        if self.versioned:
            versions = self._versions(key)
            if versions and "Size" not in versions[0]:
                real = [v for v in versions if "Size" in v]
                if not real:
                    raise NotFoundError(f"object {key} is missing from {self.describe()}")
                kw["VersionId"] = real[0]["VersionId"]
        return kw

    def extend_retention(self, key: str, until: datetime) -> None:
        if not self.supports_lock:
            return
        self._call("extend the lock of", key, self.client.put_object_retention,
                   **self._version_kw(key),
                   Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until})

    def older_versions(self, key: str) -> list[bytes]:
        """Bodies of the versions under the newest one holding data (markers skipped)."""
        bodies = []
        for v in [v for v in self._versions(key) if "Size" in v][1:]:
            resp = self._call("read", key, self.client.get_object, Key=self._k(key),
                              VersionId=v["VersionId"])
            bodies.append(resp["Body"].read())
        return bodies


def _read_body(resp: dict[str, Any]) -> bytes:
    """The response body read into one buffer of its announced length (a pack costs its
    size once in memory, not twice as ``read()``'s joined pieces do)."""
    body, n = resp["Body"], int(resp.get("ContentLength") or 0)
    if n <= 1 << 20:
        return body.read()
    buf = bytearray(n)
    view, pos = memoryview(buf), 0
    while pos < n:
        block = body.read(min(1 << 20, n - pos))
        if not block:
            break
        view[pos:pos + len(block)] = block
        pos += len(block)
    return buf if pos == n else buf[:pos]  # short: the object's checks reject it


def open_store(url: str, *, endpoint_url: str | None = None, region: str | None = None,
               profile: str | None = None, object_lock: bool = False) -> ObjectStore:
    """A store from a target URL: ``s3://bucket/prefix``, ``file:///path`` or a path."""
    if url.startswith("s3://"):
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
