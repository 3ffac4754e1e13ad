"""Hard links (issue 16): a photo under an image root that shares its inode with a file
outside every root (rsnapshot, `rsync --link-dest`, de-duplicating photo managers) is
never planned, moved or overwritten, and the file outside keeps its bytes."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from .conftest import School
from .test_commands import make_plan, said

PORTRAIT = Path("Pupils") / "Jane Doe" / "portrait.jpg"


def _plan_items(plan_id: str) -> set[str]:
    from dataward.ledger import Ledger
    from dataward.retention import store
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger:
        return {i.rel for i in store.plan_items(ledger, plan_id)}


def test_a_hard_linked_due_photo_is_left_out_of_the_plan_and_said(cli, configured: School):
    photo = configured.root / PORTRAIT
    outside = configured.outside / "snapshot-portrait.jpg"
    os.link(photo, outside)
    original = outside.read_bytes()

    r = cli("retention", "plan")
    assert r.exit_code == 0, r.output
    plan_id = r.stdout.split("plan ", 1)[1].split()[0]
    assert "kept, hard-linked: 1" in said(r)
    assert "1 due image(s) have other hard links" in said(r)
    assert PORTRAIT.as_posix() not in _plan_items(plan_id)
    assert "Pupils/Jane Doe/sports day.jpg" in _plan_items(plan_id)

    assert cli("retention", "approve", plan_id, "--by", "Ann Smith").exit_code == 0
    assert cli("retention", "apply", plan_id).exit_code == 0
    r = cli("retention", "purge", "--yes", env={"DATAWARD_RETENTION__GRACE_DAYS": "0"})
    assert r.exit_code == 0, r.output
    assert photo.read_bytes() == original and outside.read_bytes() == original


def test_a_due_photo_hard_linked_after_planning_refuses_the_apply(cli, configured: School):
    plan_id = make_plan(cli)
    assert cli("retention", "approve", plan_id, "--by", "Ann Smith").exit_code == 0
    photo = configured.root / PORTRAIT
    outside = configured.outside / "library" / "portrait.jpg"
    outside.parent.mkdir()
    os.link(photo, outside)   # same bytes, size and mtime: only the link count tells
    original = outside.read_bytes()

    r = cli("retention", "apply", plan_id)
    assert r.exit_code == 5 and "hard links now" in said(r), r.output
    assert photo.exists() and outside.read_bytes() == original
    assert not list((configured.root / ".dataward-quarantine").rglob("*.jpg"))


def test_a_due_file_swapped_for_a_hard_link_after_planning_is_refused(cli, configured: School):
    plan_id = make_plan(cli)
    assert cli("retention", "approve", plan_id, "--by", "Ann Smith").exit_code == 0
    photo = configured.root / PORTRAIT
    outside = configured.outside / "portrait.jpg"
    outside.write_bytes(photo.read_bytes())
    st = photo.stat()
    os.utime(outside, ns=(st.st_atime_ns, st.st_mtime_ns))
    photo.unlink()
    os.link(outside, photo)   # the planned name now shares the outside file's inode
    original = outside.read_bytes()

    r = cli("retention", "apply", plan_id)
    assert r.exit_code == 5 and "hard links now" in said(r), r.output
    r = cli("retention", "purge", "--yes", env={"DATAWARD_RETENTION__GRACE_DAYS": "0"})
    assert outside.read_bytes() == original


def test_purge_never_overwrites_a_quarantined_file_hard_linked_later(cli, configured: School):
    plan_id = make_plan(cli)
    assert cli("retention", "approve", plan_id, "--by", "Ann Smith").exit_code == 0
    assert cli("retention", "apply", plan_id).exit_code == 0
    qfile = configured.root / ".dataward-quarantine" / plan_id / "000001.jpg"
    outside = configured.outside / "kept-copy.jpg"
    os.link(qfile, outside)
    original = outside.read_bytes()

    r = cli("retention", "purge", "--yes", env={"DATAWARD_RETENTION__GRACE_DAYS": "0"})
    assert r.exit_code == 6 and "hard links in quarantine" in said(r), r.output
    assert outside.read_bytes() == original and outside.stat().st_size > 0
    assert qfile.exists()
    record = list(csv.DictReader(io.StringIO(cli("retention", "deletions").stdout)))
    assert record and "1" not in {row["item_no"] for row in record}   # the others were purged
