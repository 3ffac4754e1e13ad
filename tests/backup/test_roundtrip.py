"""Restore reproduces files byte for byte, with mode and mtime, across snapshots."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings as hsettings, strategies as st

from dataward.backup import service
from dataward.backup.restore import restore

from .conftest import snapshot_tree_files

NAMES = st.sampled_from([
    "a", "b.txt", "Report 2026.docx", "naïve café.txt", "日本語.pdf", "-rf", ".hidden",
    "new\nline", "tab\there", "x" * 200, os.fsdecode(b"latin1-\xe9\xff"), "~tilde.docx",
    "semi;colon&amp", "quote'\"", "emoji-\U0001F600",
])
CONTENT = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=2000),
    st.builds(lambda seed, n: (bytes([seed]) * 7 + os.urandom(3)) * n,
              st.integers(0, 255), st.integers(1000, 40000)),
    st.builds(lambda n: os.urandom(n), st.integers(60_000, 300_000)),
)
FILES = st.dictionaries(
    st.lists(NAMES, min_size=1, max_size=3).map(lambda parts: "/".join(
        [f"d{i}-{p}" for i, p in enumerate(parts[:-1])] + [parts[-1]])),
    st.tuples(CONTENT, st.sampled_from([0o600, 0o644, 0o755, 0o400, 0o640]),
              st.integers(0, 2_000_000_000)),
    min_size=1, max_size=8)


def write_tree(root: Path, files: dict[str, tuple[bytes, int, int]]) -> None:
    for rel, (data, mode, mtime) in files.items():
        p = root / rel
        if any(q.exists() and not q.is_dir() for q in [*p.parents][: len(Path(rel).parts) - 1]):
            continue  # a file already took this folder's name
        if p.exists() and p.is_dir():
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists():
            p.chmod(0o600)
        p.write_bytes(data)
        os.chmod(p, mode)
        os.utime(p, ns=(mtime * 1000 + 123, mtime * 1000 + 123))


def test_random_trees_restore_byte_for_byte(settings, tmp_path):
    counter = iter(range(10_000))
    target = str(tmp_path / "repo")

    # No shrinking: each example is a real backup and restore, and shrinking them takes
    # minutes; the failing example is printed as generated.
    @hsettings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(FILES, FILES)
    def check(first, second):
        n = next(counter)
        src = Path(tempfile.mkdtemp(dir=tmp_path, prefix=f"src{n}-"))
        write_tree(src, first)
        os.symlink("../../etc/passwd", src / "a-link")  # kept as a link, never followed
        want1 = snapshot_tree_files(src)
        r1 = service.backup_run(settings, target=target, sources=[src])[0]
        write_tree(src, second)  # second snapshot: changed, added and unchanged files
        want2 = snapshot_tree_files(src)
        r2 = service.backup_run(settings, target=target, sources=[src])[0]
        for snap_id, want in ((r1.snapshot_id, want1), (r2.snapshot_id, want2)):
            dest = tmp_path / f"out{n}-{snap_id[:8]}"
            service.backup_restore(settings, snap_id[:10], dest, target=target)
            got = snapshot_tree_files(dest / src.relative_to("/"))
            assert got == want

    check()


def test_unchanged_second_run_reads_nothing_and_uploads_no_pack(settings, make_tree, tmp_path):
    src = make_tree({"big.bin": os.urandom(900_000), "doc.txt": b"minutes\n" * 5000, "e": b""})
    target = str(tmp_path / "repo")
    first = service.backup_run(settings, target=target, sources=[src])[0]
    assert first.packs_uploaded >= 3 and first.bytes_new == first.bytes
    second = service.backup_run(settings, target=target, sources=[src])[0]
    assert second.files_unchanged == 3 and second.bytes_read == 0
    assert second.packs_uploaded == 0 and second.bytes_new == 0
    # An edit in the middle of a big file uploads about one chunk, not the file.
    data = bytearray((src / "big.bin").read_bytes())
    data[450_000:450_010] = b"0123456789"
    (src / "big.bin").write_bytes(bytes(data))
    third = service.backup_run(settings, target=target, sources=[src])[0]
    assert 0 < third.bytes_new < 400_000


def test_restore_selected_paths_only(settings, make_tree, tmp_path):
    src = make_tree({"staff/a.txt": b"A", "staff/b.txt": b"B", "pupils/c.txt": b"C"})
    target = str(tmp_path / "repo")
    service.backup_run(settings, target=target, sources=[src])
    dest = tmp_path / "out"
    res = service.backup_restore(settings, "latest", dest, target=target,
                                 paths=[str(src / "staff" / "a.txt")])
    assert res.files == 1
    base = dest / src.relative_to("/")
    assert (base / "staff" / "a.txt").read_bytes() == b"A"
    assert not (base / "staff" / "b.txt").exists() and not (base / "pupils").exists()


def test_restore_refuses_to_overwrite_or_follow_symlinks(settings, make_tree, tmp_path):
    from dataward.errors import PathOutsideRootsError, RefusedError
    src = make_tree({"x/a.txt": b"A"})
    target = str(tmp_path / "repo")
    service.backup_run(settings, target=target, sources=[src])
    dest = tmp_path / "out"
    service.backup_restore(settings, "latest", dest, target=target)
    with pytest.raises(RefusedError):
        service.backup_restore(settings, "latest", dest, target=target)
    # A symlink planted where a restored folder goes is refused, not followed.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dest2 = tmp_path / "out2"
    link_at = dest2 / src.relative_to("/")
    link_at.parent.mkdir(parents=True)
    link_at.symlink_to(elsewhere)
    with pytest.raises(PathOutsideRootsError):
        service.backup_restore(settings, "latest", dest2, target=target)
    assert list(elsewhere.iterdir()) == []


def test_restore_from_the_repository_alone_with_only_the_recovery_key(settings, make_tree,
                                                                        tmp_path, gnupghome):
    """A new machine: no state folder, no cache; the target and a recovery key suffice."""
    from dataward.connectors.objectstore import LocalStore
    from dataward.backup.repository import Repository
    src = make_tree({"f.bin": os.urandom(200_000)})
    target = tmp_path / "repo"
    service.backup_run(settings, target=str(target), sources=[src])
    with Repository.open(LocalStore(target), tmp_path / "nokeys", tmp_path / "newcache",
                         gnupghome=gnupghome, use_recovery_key=True) as repo:
        res = restore(repo, repo.find_snapshot("latest"), tmp_path / "fresh")
    assert res.files == 1
    assert (tmp_path / "fresh" / src.relative_to("/") / "f.bin").read_bytes() == \
        (src / "f.bin").read_bytes()


def test_excluded_names_are_not_backed_up(settings, make_tree, tmp_path):
    src = make_tree({"~$Budget.xlsx": b"owner lock file", "Thumbs.db": b"thumbs",
                     "sub/Budget.xlsx": b"the real file"})
    target = str(tmp_path / "repo")
    r = service.backup_run(settings, target=target, sources=[src])[0]
    assert r.files == 1
    dest = tmp_path / "out"
    service.backup_restore(settings, "latest", dest, target=target)
    assert sorted(p.name for p in (dest / src.relative_to("/")).rglob("*")) == ["Budget.xlsx", "sub"]


def test_full_keys_mode_restores_without_a_recovery_key(dw_home, make_tree, tmp_path, gpg_home):
    """write_only: false keeps the private key on the server (a second device at home)."""
    from dataward.settings import load_settings
    s = load_settings(backup={"recovery_keys": [gpg_home["recovery"]],
                              "gnupghome": gpg_home["home"], "write_only": False,
                              "chunk_avg_kib": 64})
    src = make_tree({"a.txt": b"governors " * 3000})
    target = str(tmp_path / "repo")
    service.backup_run(s, target=target, sources=[src])
    assert "private_key" in next(s.keys_dir.glob("backup-*.json")).read_text()
    s2 = load_settings(backup={**s.backup.model_dump(), "gnupghome": str(tmp_path / "none")})
    res = service.backup_restore(s2, "latest", tmp_path / "out", target=target)
    assert res.files == 1
    assert (tmp_path / "out" / src.relative_to("/") / "a.txt").read_bytes() == b"governors " * 3000


def test_restore_fetches_each_pack_once_and_writes_shared_chunks_to_every_file(
        settings, make_tree, tmp_path, gnupghome):
    """Restore is planned by pack: a chunk used by many files (copies of one photo spread
    over the tree, as restored in tree order) costs one download of its pack."""
    from dataward.connectors.objectstore import LocalStore
    from dataward.backup.service import Target, open_repo

    class CountingStore(LocalStore):
        def __init__(self, root: Path) -> None:
            super().__init__(root)
            self.gets: dict[str, int] = {}

        def get(self, key: str) -> bytes:
            self.gets[key] = self.gets.get(key, 0) + 1
            return super().get(key)

        def open_stream(self, key: str):
            self.gets[key] = self.gets.get(key, 0) + 1
            return super().open_stream(key)

    photo, other = os.urandom(700_000), os.urandom(700_000)
    files = {f"class{i}/trip.jpg": photo for i in range(6)}
    files |= {f"class{i}/notes{j}.bin": os.urandom(90_000) for i in range(6) for j in range(3)}
    files |= {"zz/other.jpg": other, "aa/other-copy.jpg": other, "empty.txt": b""}
    src = make_tree(files)
    target = str(tmp_path / "repo")
    service.backup_run(settings, target=target, sources=[src])
    store = CountingStore(Path(target))
    packs = {o.key for o in store.list("packs/")}
    assert len(packs) >= 6  # 0.25 MB packs: the data is spread over many
    t = Target("usb", target, store, 0)
    with open_repo(settings, t, gnupghome=gnupghome, use_recovery_key=True) as repo:
        res = restore(repo, repo.find_snapshot("latest"), tmp_path / "out", workers=3)
    assert not res.damaged and res.files == len(files)
    fetched = {k: n for k, n in store.gets.items() if k.startswith("packs/")}
    assert set(fetched) == packs and set(fetched.values()) == {1}
    assert snapshot_tree_files(tmp_path / "out" / src.relative_to("/")) == snapshot_tree_files(src)
    assert not [p for p in (tmp_path / "out").rglob(".*dwrestore")]
