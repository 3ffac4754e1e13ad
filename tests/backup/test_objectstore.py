"""The object store interface: a folder, the in-memory fake, and S3 over HTTP (moto)."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from dataward.connectors.objectstore import LocalStore, MemoryStore, open_store
from dataward.connectors.s3store import S3Store
from dataward.errors import (
    ConfigError, NotFoundError, PathOutsideRootsError, RefusedError, RepositoryMissingError,
    TransientError,
)
from dataward.backup import service

from .conftest import free_port, s3_client


def _contract(store) -> None:
    store.put("packs/aa", b"one")
    store.put("packs/bb", b"two" * 1000)
    store.put("config", b"{}")
    assert store.get("packs/aa") == b"one"
    assert [(o.key, o.size) for o in store.list("packs/")] == [("packs/aa", 3), ("packs/bb", 3000)]
    assert store.exists("config") and not store.exists("packs/cc")
    store.put("packs/aa", b"replaced")
    assert store.get("packs/aa") == b"replaced"
    store.delete("packs/aa")
    assert not store.exists("packs/aa")
    with pytest.raises(NotFoundError):
        store.get("packs/aa")
    for bad in ("../escape", "/abs", "a//b", "a/./b"):
        with pytest.raises(PathOutsideRootsError):
            store.put(bad, b"x")


def test_local_store_contract_and_atomic_private_files(tmp_path):
    store = LocalStore(tmp_path / "t")
    _contract(store)
    assert oct((tmp_path / "t" / "config").stat().st_mode & 0o777) == "0o600"
    assert not [p for p in (tmp_path / "t").rglob(".*.tmp")]


def test_local_store_never_follows_a_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not yours")
    root = tmp_path / "t"
    root.mkdir()
    (root / "packs").symlink_to(outside)
    store = LocalStore(root)
    with pytest.raises(PathOutsideRootsError):
        store.put("packs/x", b"data")
    with pytest.raises(PathOutsideRootsError):
        store.get("packs/secret")
    assert store.list("packs/") == []
    assert not (outside / "x").exists()


def test_local_store_get_and_open_stream_agree(tmp_path):
    """A whole read and a streamed read of a local store: same bytes, and the same refusal
    of a missing object and of an object swapped for a symlink."""
    store = LocalStore(tmp_path / "t")
    store.put("packs/aa", b"pack bytes")
    (tmp_path / "secret").write_bytes(b"not yours")
    (tmp_path / "t" / "packs" / "link").symlink_to(tmp_path / "secret")
    with store.open_stream("packs/aa") as fh:
        assert fh.read() == store.get("packs/aa") == b"pack bytes"
    for key in ("packs/missing", "packs/link"):
        with pytest.raises(NotFoundError) as whole:
            store.get(key)
        with pytest.raises(NotFoundError) as streamed:
            store.open_stream(key)
        assert str(whole.value) == str(streamed.value)
        assert "not yours" not in str(whole.value)


def test_memory_store_contract_and_compliance_locks():
    now = datetime(2026, 9, 1, tzinfo=UTC)
    store = MemoryStore(clock=lambda: now)
    _contract(store)
    store.put("snapshots/s", b"v1", retain_until=now + timedelta(days=30))
    with pytest.raises(RefusedError):
        store.delete("snapshots/s")
    with pytest.raises(RefusedError):
        store.extend_retention("snapshots/s", now + timedelta(days=1))
    store.put("snapshots/s", b"v2")  # a new version on top; the locked one stays
    assert store.get("snapshots/s") == b"v2" and store.older_versions("snapshots/s") == [b"v1"]


def test_open_store_urls(tmp_path):
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    assert isinstance(open_store(f"file://{tmp_path}"), LocalStore)
    assert open_store("s3://bucket/a/b").describe() == "s3://bucket/a/b/"[:-1]
    with pytest.raises(ConfigError):
        open_store("ftp://host/x")
    with pytest.raises(ConfigError, match="needs an s3"):
        open_store(str(tmp_path), object_lock=True)


def test_s3_store_contract_over_http(moto_s3, s3_env):
    client = s3_client(moto_s3)
    client.create_bucket(Bucket="contract", CreateBucketConfiguration={
        "LocationConstraint": "eu-west-2"})
    client.put_bucket_versioning(Bucket="contract", VersioningConfiguration={"Status": "Enabled"})
    store = S3Store("contract", "school/a", endpoint_url=moto_s3, region="eu-west-2")
    _contract(store)
    # delete removes every version, not just the current one
    store.put("x", b"1")
    store.put("x", b"2")
    store.delete("x")
    assert client.list_object_versions(Bucket="contract", Prefix="school/a/x").get("Versions") is None
    with pytest.raises(RepositoryMissingError):
        S3Store("no-such-bucket", endpoint_url=moto_s3, region="eu-west-2").get("config")


def test_s3_unreachable_is_transient(s3_env):
    store = S3Store("b", endpoint_url=f"http://127.0.0.1:{free_port()}", region="eu-west-2")
    store.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(TransientError) as info:
        store.get("config")
    assert info.value.transient


def test_backup_and_restore_through_s3(settings, moto_s3, s3_env, make_tree, tmp_path, monkeypatch):
    """A configured S3 target: run, list, verify, restore; nothing readable in the bucket."""
    from dataward.settings import load_settings
    client = s3_client(moto_s3)
    client.create_bucket(Bucket="oakfield-backups",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s = load_settings(backup={**settings.backup.model_dump(), "targets": [
        {"name": "offsite", "url": "s3://oakfield-backups/primary", "endpoint_url": moto_s3,
         "region": "eu-west-2"}]})
    secret = b"Medical note: Amelia Rahman, asthma, inhaler in office. " * 500
    src = make_tree({"medical/Amelia Rahman.txt": secret, "r.bin": os.urandom(150_000)})
    r = service.backup_run(s, sources=[src])[0]
    assert r.target == "offsite" and r.files == 2
    assert service.backup_run(s, sources=[src])[0].packs_uploaded == 0
    assert len(service.backup_list(s)[0][1]) == 2
    assert service.backup_verify(s, read_data=100)[0].ok
    res = service.backup_restore(s, "latest", tmp_path / "out")
    assert (tmp_path / "out" / src.relative_to("/") / "medical" / "Amelia Rahman.txt").read_bytes() == secret
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="oakfield-backups")["Contents"]]
    assert all(k.startswith("primary/") for k in keys) and res.files == 2
    for k in keys:
        body = client.get_object(Bucket="oakfield-backups", Key=k)["Body"].read()
        assert b"Amelia" not in body and b"asthma" not in body and b"medical" not in body


def test_a_folder_listing_skips_an_object_removed_while_it_listed(tmp_path, monkeypatch):
    """Two runs share a folder target: one lists locks/ while the other replaces or
    releases its lock. The listing leaves the vanished object out instead of failing."""
    store = LocalStore(tmp_path / "repo")
    store.put("locks/a", b"{}")
    store.put("locks/b", b"{}")
    real_lstat = os.lstat

    def lstat(path, *args, **kwargs):
        if str(path).endswith(os.path.join("locks", "a")) and os.path.exists(path):
            os.unlink(path)  # the other process removes it just now
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", lstat)
    assert [o.key for o in store.list("locks/")] == ["locks/b"]
