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

from .conftest import s3_client, snapshot_tree_files


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


def _first_two(client, bucket: str, prefix: str) -> list[str]:
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])
    assert len(keys) >= 2, prefix
    return keys[:2]


def test_delete_markers_and_overwrites_are_seen_through_named_and_repaired(
        settings, seaweed_s3, lock_bucket, make_tree, tmp_path, dw_home, gnupghome):
    """What ransomware holding the server's S3 credentials can do to locked objects:
    stack a delete marker (DeleteObject without a version id) or upload a new version.
    list, restore and verify look through both; verify names them; repair undoes them."""
    import shutil

    from dataward.connectors.s3store import S3Store
    client, bucket = lock_bucket
    s = _locked_settings(settings, seaweed_s3, bucket, days=1)
    trees = [make_tree({"register.csv": b"UPN,mark\n" * 30_000, f"p{i}.jpg": os.urandom(400_000)},
                       name=f"share{i}") for i in range(2)]
    ids = [service.backup_run(s, sources=[t])[0].snapshot_id for t in trees]
    hidden, overwritten = [], []
    for kind in ("snapshots", "index", "packs"):
        first, second = _first_two(client, bucket, f"oakfield/{kind}/")
        client.delete_object(Bucket=bucket, Key=first)               # a delete marker
        client.put_object(Bucket=bucket, Key=second, Body=b"encrypted by ransomware")
        hidden.append(first)
        overwritten.append(second)
    client.delete_object(Bucket=bucket, Key="oakfield/config")
    keys_obj = client.list_objects_v2(Bucket=bucket, Prefix="oakfield/keys/")["Contents"][0]["Key"]
    client.delete_object(Bucket=bucket, Key=keys_obj)
    hidden += ["oakfield/config", keys_obj]
    # To plain S3 they are gone or garbage:
    assert not any(o["Key"] in hidden for o in
                   client.list_objects_v2(Bucket=bucket, Prefix="oakfield/")["Contents"])
    shutil.rmtree(dw_home / "backup")  # no server cache to lean on (a rebuilt server)

    assert sorted(sn.id for sn in service.backup_list(s)[0][1]) == sorted(ids)
    for i, (sid, tree) in enumerate(zip(ids, trees)):
        out = tmp_path / f"out{i}"
        res = service.backup_restore(s, sid[:8], out, gnupghome=gnupghome)
        assert not res.damaged and res.files == 2
        assert snapshot_tree_files(out / tree.relative_to("/")) == snapshot_tree_files(tree)
    v = service.backup_verify(s, read_data=100, gnupghome=gnupghome)[0]
    named = "\n".join(v.problems)
    assert not v.ok
    for key in hidden + overwritten:
        kind, _, name = key.removeprefix("oakfield/").partition("/")
        label = f"{kind.rstrip('s')} {name[:12]}" if name else kind
        what = "hidden by a delete marker" if key in hidden else "overwritten"
        assert f"{label} is {what}" in named, (key, named)
    assert len(v.problems) == len(hidden) + len(overwritten), named  # nothing else is wrong

    repaired = service.backup_repair(s)[0][1]
    assert len(repaired.restored) == len(hidden) + len(overwritten) and not repaired.unrepairable
    assert service.backup_verify(s, read_data=100, gnupghome=gnupghome)[0].ok
    listed = {o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="oakfield/")["Contents"]}
    assert set(hidden) <= listed
    store = S3Store(bucket, "oakfield", endpoint_url=seaweed_s3, region="us-east-1")
    for key in overwritten:  # the current version is the intact one again, and locked
        plain = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert plain != b"encrypted by ransomware"
        assert key.rsplit("/", 1)[1] == __import__("hashlib").sha256(plain[:-32]).hexdigest()
        assert client.get_object_retention(Bucket=bucket, Key=key)["Retention"]["Mode"] == "COMPLIANCE"
    assert store.get("config")


def test_an_ad_hoc_target_on_a_locked_bucket_needs_object_lock_days(
        settings, seaweed_s3, lock_bucket, make_tree, monkeypatch):
    from dataward.errors import ConfigError
    client, bucket = lock_bucket
    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweed_s3)
    src = make_tree({"a.bin": os.urandom(100_000)})
    url = f"s3://{bucket}/adhoc"
    with pytest.raises(ConfigError, match="--object-lock-days"):
        service.backup_run(settings, target=url, sources=[src])
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="adhoc/")
    service.backup_run(settings, target=url, sources=[src], object_lock_days=2)
    soon = datetime.now(UTC) + timedelta(days=1)
    for o in client.list_objects_v2(Bucket=bucket, Prefix="adhoc/")["Contents"]:
        if "/locks/" not in o["Key"]:
            ret = client.get_object_retention(Bucket=bucket, Key=o["Key"])["Retention"]
            assert ret["Mode"] == "COMPLIANCE" and ret["RetainUntilDate"] > soon
    # Reading an ad hoc target needs no option: list and verify see the locked bucket.
    assert len(service.backup_list(settings, target=url)[0][1]) == 1
