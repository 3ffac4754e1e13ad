"""The termly restore test: restore a random sample of files to a scratch folder,
compare their SHA-256 with the source, and record the result in the ledger.

Only files unchanged since the snapshot (same size and mtime on disk now) are sampled,
so a file edited since last night is not a false failure. The scratch folder is removed
afterwards; the ledger gets counts and the snapshot id, never a file name.
"""
from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path

from ..connectors.filesystem import file_sha256
from ..errors import IntegrityError, NotFoundError
from ..ledger import Ledger, utcnow
from ..settings import Settings
from .records import RestoreTestRecord, record_restore_test
from .restore import restore
from .service import open_repo, resolve_targets


def _sha256(path: Path) -> str | None:
    """The file's SHA-256, or None when it cannot be read (gone, a link, no permission)."""
    try:
        return file_sha256(path)
    except OSError:
        return None


def restore_test(settings: Settings, *, target: str | None = None,
                 gnupghome: Path | None = None, passphrase: str | None = None,
                 sample: int | None = None, seed: int | None = None) -> RestoreTestRecord:
    t = resolve_targets(settings, target)[0]
    n = sample or settings.backup.restore_test_files
    use_recovery = settings.backup.write_only or gnupghome is not None
    scratch = Path(tempfile.mkdtemp(prefix="dw-restore-test-", dir=settings.home))
    try:
        with open_repo(settings, t, gnupghome=gnupghome, use_recovery_key=use_recovery,
                       passphrase=passphrase) as repo:
            snap = repo.find_snapshot("latest")
            tree = repo.snapshot_tree(snap)
            candidates = []
            for e in tree:
                if e["type"] != "file":
                    continue
                try:
                    st = os.lstat(e["path"])
                except OSError:
                    continue
                if st.st_size == e["size"] and st.st_mtime_ns == e["mtime_ns"]:
                    candidates.append(e["path"])
            if not candidates:
                raise NotFoundError("no file of the latest snapshot is still unchanged on disk "
                                    "to compare against; run a backup first")
            picked = random.Random(seed).sample(candidates, min(n, len(candidates)))
            result = restore(repo, snap, scratch, includes=picked)
        matched = failed = 0
        total = 0
        restored = dict(result.restored)
        for original in picked:
            got = restored.get(original)
            if got is not None and _sha256(got) == _sha256(Path(original)):
                matched += 1
                total += got.stat().st_size
            else:
                failed += 1
        status = "passed" if failed == 0 else "failed"
        rec = RestoreTestRecord(utcnow(), t.name, snap.id, status, len(picked), matched,
                                failed, total)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with Ledger.for_settings(settings) as ledger:
        record_restore_test(ledger, rec)
    if failed:
        raise IntegrityError(f"restore test failed: {failed} of {len(picked)} sampled files "
                             f"did not come back identical from snapshot {snap.id[:8]}; "
                             "run `dataward backup verify --read-data 100`")
    return rec
