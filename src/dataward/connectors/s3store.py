"""``S3Store``: a backup repository's objects in an S3-compatible bucket (botocore).

With Object Lock, every object is written in COMPLIANCE mode with a retain-until date,
and the bucket is versioned: reads and lists then look past delete markers and
overwrites to the versions underneath (``touched`` lists what someone hid or overwrote).
"""
from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime
from typing import Any, BinaryIO, cast

from ..errors import NotFoundError, RefusedError, RepositoryMissingError, TransientError
from .objectstore import ObjectInfo, ObjectStore, VersionState, _check_key


class S3Store(ObjectStore):
    """A bucket (and prefix) on an S3-compatible server. Credentials come from the usual
    AWS places (environment, ~/.aws, instance role), or ``profile``."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, profile: str | None = None,
                 object_lock: bool = False, client: Any = None) -> None:
        import botocore.session
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.supports_lock = object_lock
        # A bucket with Object Lock is versioned: reads and lists look past delete
        # markers and overwrites to the versions underneath.
        self.versioned = object_lock
        if client is None:
            # botocore without boto3's resource layer: a quicker start for every command.
            # CRC checksums only where S3 requires them: every object carries its own
            # SHA-256 name and MAC, checked on every read, so a second checksum pass over
            # each pack (upload and download) buys nothing.
            session = botocore.session.Session(profile=profile)
            client = session.create_client(
                "s3", endpoint_url=endpoint_url, region_name=region,
                config=Config(retries={"max_attempts": 5, "mode": "standard"},
                              max_pool_connections=10,
                              request_checksum_calculation="when_required",
                              response_checksum_validation="when_required"))
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
        return _read_body(self._get(key))

    def open_stream(self, key: str) -> BinaryIO:
        return cast(BinaryIO, self._get(key)["Body"])

    def _get(self, key: str) -> dict[str, Any]:
        """The GET response of the current version, or of the newest version holding
        data when a delete marker hides it."""
        try:
            return cast(dict[str, Any], self._call("read", key, self.client.get_object,
                                                   Key=self._k(key)))
        except NotFoundError:
            if not self.versioned:
                raise
            real = [v for v in self._versions(key) if "Size" in v]
            if not real:
                raise
            return cast(dict[str, Any], self._call("read", key, self.client.get_object,
                                                   Key=self._k(key), VersionId=real[0]["VersionId"]))

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

    def touched(self, prefix: str = "") -> builtins.list[VersionState]:
        if not self.versioned:
            return []
        out = []
        for key, versions in sorted(self._all_versions(prefix).items()):
            real = sum(1 for v in versions if "Size" in v)
            hidden = "Size" not in versions[0]
            if real and (hidden or real > 1):
                out.append(VersionState(key, hidden, real))
        return out

    def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        if self.versioned:  # every object with a version holding data, marker or not
            return [ObjectInfo(k, int(next(v["Size"] for v in vs if "Size" in v)))
                    for k, vs in sorted(self._all_versions(prefix).items())
                    if any("Size" in v for v in vs)]
        found: builtins.list[ObjectInfo] = []
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

    def _versions(self, key: str) -> builtins.list[dict[str, Any]]:
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
        return bool(resp.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled")

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

    def older_versions(self, key: str) -> builtins.list[bytes]:
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
        return cast(bytes, body.read())
    buf = bytearray(n)
    view, pos = memoryview(buf), 0
    while pos < n:
        block = body.read(min(1 << 20, n - pos))
        if not block:
            break
        view[pos:pos + len(block)] = block
        pos += len(block)
    # A bytearray serves every reader of object bytes (slices, memoryview, hashing); a
    # short body is passed on as it is: the object's checks reject it.
    return cast(bytes, buf if pos == n else buf[:pos])
