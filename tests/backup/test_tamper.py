"""Tampering is detected, never silently restored; a wrong key gives a clear error; no
plaintext content or file name reaches the target."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dataward.errors import IntegrityError, WrongKeyError
from dataward.backup import service

SECRET_NAME = "Safeguarding-Jayden-Okonkwo-2026.docx"
SECRET_TEXT = b"Jayden Okonkwo UPN A123456789012 disclosed at break time. " * 400


@pytest.fixture
def repo_dir(settings, make_tree, tmp_path):
    src = make_tree({SECRET_NAME: SECRET_TEXT, "other/plain.txt": b"unrelated notes\n" * 3000,
                     "rand.bin": os.urandom(300_000)})
    target = tmp_path / "repo"
    service.backup_run(settings, target=str(target), sources=[src])
    return src, target


def _flip(path: Path, where: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", ["packs", "index", "snapshots"])
def test_flipped_bit_is_reported_by_verify_and_restore_refuses(settings, repo_dir, tmp_path,
                                                               gnupghome, kind):
    src, target = repo_dir
    clean = service.backup_verify(settings, target=str(target), read_data=100,
                                  gnupghome=gnupghome)[0]
    assert clean.ok and clean.chunks_decrypted > 0
    victims = sorted((target / kind).iterdir())
    for victim in victims:
        _flip(victim)
    res = service.backup_verify(settings, target=str(target), read_data=100)[0]
    assert not res.ok
    assert any(kind.rstrip("s") in p for p in res.problems)
    dest = tmp_path / "out"
    if kind == "snapshots":
        with pytest.raises(IntegrityError, match="damaged|no snapshots"):
            service.backup_restore(settings, victims[0].name[:12], dest, target=str(target))
        return
    # A restore on the recovery machine (no local cache of this server's indexes).
    shutil.rmtree(settings.home / "backup")
    result = service.backup_restore(settings, "latest", dest, target=str(target))
    # Nothing damaged is written, not even in part; the damaged files are named to the caller.
    assert result.damaged and result.warnings
    base = dest / src.relative_to("/")
    for original in result.damaged:
        assert not (dest / original.lstrip("/")).exists()
    for original, restored in result.restored:
        assert restored.read_bytes() == Path(original).read_bytes()
    assert not list(base.rglob(".*.dwrestore"))


def test_cli_restore_of_damaged_pack_exits_6_and_lists_files_only_in_the_restore_folder(
        settings, repo_dir, tmp_path, cli, gpg_home):
    src, target = repo_dir
    for p in (target / "packs").iterdir():
        _flip(p, 0.3)
    dest = tmp_path / "out"
    env = {"DATAWARD_BACKUP__GNUPGHOME": gpg_home["home"]}
    r = cli("backup", "restore", "latest", "--to", dest, "--target", target, env=env)
    assert r.exit_code == 6
    assert "NOT restored" in r.output and SECRET_NAME not in r.output
    listing = (dest / "dataward-restore-damaged.txt").read_text()
    assert SECRET_NAME in listing
    v = cli("backup", "verify", "--read-data", "100", "--target", target, env=env)
    assert v.exit_code == 6 and "damaged" in v.output


def test_overwritten_object_on_a_versioned_store_is_detected_and_the_intact_version_used(
        settings, make_tree, tmp_path, gnupghome):
    """Ransomware that overwrites objects on a versioned bucket: the check fails on the
    current version, and the locked original version is used instead."""
    from dataward.connectors.objectstore import MemoryStore
    from dataward.backup.repository import Repository
    from dataward.backup.restore import restore
    from dataward.backup.run import run_backup
    from dataward.backup.service import init_target, Target
    store = MemoryStore()
    init_target(settings, Target("mem", "memory", store, 0)).close()
    src = make_tree({"a.txt": b"attendance " * 5000})
    with service.open_repo(settings, Target("mem", "memory", store, 0)) as repo:
        run_backup(repo, [src])
    for key in [k for k in store.objects if k.startswith("packs/")]:
        store.put(key, b"encrypted by ransomware")
    with Repository.open(store, settings.keys_dir, tmp_path / "c", gnupghome=gnupghome,
                         use_recovery_key=True) as repo:
        res = restore(repo, repo.find_snapshot("latest"), tmp_path / "out")
    assert res.files == 1 and not res.damaged
    assert (tmp_path / "out" / src.relative_to("/") / "a.txt").read_bytes() == b"attendance " * 5000


def test_wrong_keys_give_a_clear_error(settings, repo_dir, tmp_path, gpg_home):
    src, target = repo_dir
    # A keyring without any recovery secret key cannot restore.
    empty = Path(str(gpg_home["home"]) + "-empty")
    empty.mkdir(mode=0o700)
    try:
        with pytest.raises(WrongKeyError, match="no recovery key"):
            service.backup_restore(settings, "latest", tmp_path / "o", target=str(target),
                                   gnupghome=empty)
    finally:
        shutil.rmtree(empty, ignore_errors=True)
    # This server's keys do not open another school's repository.
    other = tmp_path / "other-home"
    os.environ["DATAWARD_HOME"] = str(other)
    try:
        from dataward.home import init_home
        from dataward.settings import load_settings
        s2 = load_settings(backup=settings.backup.model_dump())
        init_home(s2)
        with pytest.raises(WrongKeyError, match="holds no keys"):
            service.backup_run(s2, target=str(target), sources=[src])
    finally:
        os.environ["DATAWARD_HOME"] = str(settings.home)
    # A key file of another repository, renamed to this one's id, fails the config MAC.
    cfg_id = __import__("json").loads((target / "config").read_text())["id"]
    mine = settings.keys_dir / f"backup-{cfg_id}.json"
    service.backup_run(settings, target=str(tmp_path / "repo2"), sources=[src])
    theirs = [p for p in settings.keys_dir.glob("backup-*.json") if p != mine][0]
    mine.write_bytes(theirs.read_bytes().replace(theirs.stem[7:].encode(), cfg_id.encode()))
    with pytest.raises(WrongKeyError, match="do not match"):
        service.backup_run(settings, target=str(target), sources=[src])


def test_no_plaintext_content_or_name_reaches_the_target(settings, repo_dir):
    src, target = repo_dir
    needles = [SECRET_TEXT[:40], b"Jayden", b"Okonkwo", b"A123456789012", SECRET_NAME.encode(),
               b"Safeguarding", b"plain.txt", b"unrelated notes", os.fsencode(str(src)),
               b"other"]
    objects = [p for p in target.rglob("*") if p.is_file()]
    assert len(objects) >= 5
    for p in objects:
        blob = p.read_bytes()
        for n in needles:
            assert n not in blob, f"{n!r} readable in {p.relative_to(target)}"
        assert "Jayden" not in str(p)
    # Write-only: the school server's key file cannot read the data.
    key_files = list(settings.keys_dir.glob("backup-*.json"))
    assert key_files and all("private_key" not in k.read_text() for k in key_files)
    assert all(oct(k.stat().st_mode & 0o777) == "0o600" for k in key_files)
