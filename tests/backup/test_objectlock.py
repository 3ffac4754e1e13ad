"""Object Lock on a real S3 server (SeaweedFS on loopback): locked objects cannot be
deleted or altered through the S3 API; locks are extended while objects are in use;
prune removes only what no lock protects. Plus the same prune rules on the fake."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from dataward.connectors.objectstore import MemoryStore
from dataward.backup import Policy, service
from dataward.backup.prune import prune
from dataward.backup.run import run_backup
from dataward.backup.service import Target, init_target, open_repo

from .conftest import s3_client


def _locked_settings(settings, endpoint: str, bucket: str, days: int):
    from dataward.settings import load_settings
    return load_settings(backup={**settings.backup.model_dump(), "targets": [
        {"name": "offsite", "url": f"s3://{bucket}/oakfield", "endpoint_url": endpoint,
         "region": "us-east-1", "object_lock_days": days}]})


@pytest.fixture
def lock_bucket(seaweed_s3, s3_env):
    client = s3_client(seaweed_s3)
    name = f"locked-{os.urandom(4).hex()}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return client, name


def test_locked_objects_cannot_be_deleted_or_altered_via_s3(settings, seaweed_s3, lock_bucket,
                                                             make_tree, tmp_path):
    client, bucket = lock_bucket
    s = _locked_settings(settings, seaweed_s3, bucket, days=1)
    src = make_tree({"attendance.csv": b"UPN,mark\n" * 20_000, "r.bin": os.urandom(200_000)})
    service.backup_run(s, sources=[src])
    objs = client.list_objects_v2(Bucket=bucket, Prefix="oakfield/")["Contents"]
    kinds = {o["Key"].split("/")[1] for o in objs}
    assert {"config", "keys", "packs", "index", "snapshots"} <= kinds
    soon = datetime.now(UTC) + timedelta(hours=20)
    for o in objs:
        if o["Key"].startswith("oakfield/locks/"):
            continue
        ret = client.get_object_retention(Bucket=bucket, Key=o["Key"])["Retention"]
        assert ret["Mode"] == "COMPLIANCE" and ret["RetainUntilDate"] > soon, o["Key"]
    pack = next(o["Key"] for o in objs if "/packs/" in o["Key"])
    version = client.head_object(Bucket=bucket, Key=pack)["VersionId"]
    original = client.get_object(Bucket=bucket, Key=pack)["Body"].read()
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=pack, VersionId=version)
    with pytest.raises(ClientError, match="AccessDenied"):
        client.put_object_retention(Bucket=bucket, Key=pack, VersionId=version, Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": datetime.now(UTC) + timedelta(minutes=5)})
    # dataward's own delete is refused too ...
    with open_repo(s, service.resolve_targets(s)[0]) as repo:
        from dataward.errors import RefusedError
        with pytest.raises(RefusedError):
            repo.store.delete(pack.removeprefix("oakfield/"))
    # ... and an overwrite only stacks a new version; the locked one is untouched.
    client.put_object(Bucket=bucket, Key=pack, Body=b"ransomware was here")
    assert client.get_object(Bucket=bucket, Key=pack, VersionId=version)["Body"].read() == original
    # verify sees the altered current version; restore uses the intact locked version.
    v = service.backup_verify(s, read_data=100)[0]
    assert not v.ok and any("pack" in p for p in v.problems)
    out = tmp_path / "out"
    res = service.backup_restore(s, "latest", out)
    assert res.files == 2 and not res.damaged
    assert (out / src.relative_to("/") / "r.bin").read_bytes() == (src / "r.bin").read_bytes()


def test_locks_of_objects_still_in_use_are_extended(settings, seaweed_s3, lock_bucket, make_tree):
    client, bucket = lock_bucket
    src = make_tree({"a.bin": os.urandom(300_000)})
    service.backup_run(_locked_settings(settings, seaweed_s3, bucket, days=1), sources=[src])
    objs = client.list_objects_v2(Bucket=bucket, Prefix="oakfield/packs/")["Contents"]
    first = {o["Key"]: client.get_object_retention(Bucket=bucket, Key=o["Key"])["Retention"]
             ["RetainUntilDate"] for o in objs}
    # The school raises the lock period: the next (unchanged) run re-uses every pack and
    # pushes their locks out to the new period.
    r = service.backup_run(_locked_settings(settings, seaweed_s3, bucket, days=10), sources=[src])[0]
    assert r.packs_uploaded == 0
    later = datetime.now(UTC) + timedelta(days=9)
    for key, before in first.items():
        after = client.get_object_retention(Bucket=bucket, Key=key)["Retention"]["RetainUntilDate"]
        assert after > later > before


def test_prune_removes_only_what_no_lock_protects(settings, make_tree, tmp_path):
    clock = {"now": datetime.now(UTC)}
    store = MemoryStore(clock=lambda: clock["now"])
    t = Target("mem", "memory", store, 3)
    init_target(settings, t).close()
    src = make_tree({"a.bin": os.urandom(200_000)})
    with open_repo(settings, t) as repo:
        run_backup(repo, [src])
        (src / "a.bin").write_bytes(os.urandom(200_000))  # all-new data: old packs unneeded
        run_backup(repo, [src])
        packs_before = {k for k in store.objects if k.startswith("packs/")}
        plan, result = prune(repo, Policy(keep_last=1), apply=True)
        assert not plan.forget and len(plan.held) == 1 and not plan.delete_packs
        assert plan.locked_packs == 0  # held snapshot still needs its packs
        assert result is not None and result.packs_deleted == 0
        # Four days on, the locks have ended: the old snapshot and its packs go.
        clock["now"] += timedelta(days=4)
        plan, result = prune(repo, Policy(keep_last=1), apply=True, now=clock["now"])
        assert len(plan.forget) == 1 and plan.delete_packs
        assert result is not None
        assert result.snapshots_deleted == 1 and result.packs_deleted == len(plan.delete_packs)
    assert {k for k in store.objects if k.startswith("packs/")} < packs_before
    with open_repo(settings, t, use_recovery_key=True) as repo:
        from dataward.backup.restore import restore
        from dataward.backup.verify import verify
        assert verify(repo, read_data_percent=100).ok
        out = restore(repo, repo.find_snapshot("latest"), tmp_path / "out")
    assert out.files == 1
    assert (tmp_path / "out" / src.relative_to("/") / "a.bin").read_bytes() == (src / "a.bin").read_bytes()
