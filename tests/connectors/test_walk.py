"""One tree walker, one glob meaning: scan, backup, retention and transfer walk trees
through ``connectors.filesystem.walk_tree`` and read include/exclude as gitignore does."""
from __future__ import annotations

import os
from pathlib import Path

from dataward.backup.run import walk as backup_walk
from dataward.connectors.filesystem import walk as scan_walk
from dataward.connectors.filesystem import walk_tree
from dataward.settings import Source

EXCLUDES = ["**/*.tmp", "Thumbs.db", "~$*", "node_modules/", "/build/"]

TREE = {
    "report.docx": b"kept",
    "draft.tmp": b"excluded at the top",
    "deep/er/notes.tmp": b"excluded below",
    "Thumbs.db": b"excluded",
    "photos/Thumbs.db": b"excluded below too (no slash: any depth)",
    "~$report.docx": b"office lock file",
    "staff/~$plan.xlsx": b"office lock file below",
    "staff/plan.xlsx": b"kept",
    "node_modules/left-pad/index.js": b"a folder excluded",
    "app/node_modules/x/index.js": b"a folder excluded at any depth",
    "app/node_modules.txt": b"kept: a file named like the folder",
    "build/out.bin": b"anchored: only the top build/",
    "app/build/out.bin": b"kept: not the top build/",
}


def _make(root: Path) -> None:
    for rel, data in TREE.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def test_scan_and_backup_select_the_same_files_from_the_same_excludes(tmp_path):
    root = tmp_path / "share"
    _make(root)
    scanned = {e.rel for e in scan_walk(Source(name="s", path=root, exclude=EXCLUDES))}
    errors: list[str] = []
    backed = {os.path.relpath(p, root).replace(os.sep, "/")
              for p, st in backup_walk([root], EXCLUDES, errors.append)
              if os.path.isfile(p) and not os.path.islink(p)}
    # Written out by hand from gitignore's documented meaning, not computed:
    expected = {"report.docx", "staff/plan.xlsx", "app/node_modules.txt", "app/build/out.bin"}
    assert scanned == expected
    assert backed == expected
    assert errors == []


def test_backup_keeps_folders_and_links_as_entries_but_not_excluded_folders(tmp_path):
    root = tmp_path / "share"
    _make(root)
    (root / "staff" / "link").symlink_to("/etc/passwd")
    got = {os.path.relpath(p, root).replace(os.sep, "/")
           for p, _ in backup_walk([root], EXCLUDES, print)}
    assert {".", "staff", "app", "staff/link", "deep", "deep/er"} <= got
    assert not {"node_modules", "app/node_modules", "build"} & got


def test_walker_reports_unlistable_folders_and_does_not_follow_links(tmp_path):
    root = tmp_path / "share"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "secret.txt").write_text("x")
    (root / "loop").symlink_to(root)
    os.chmod(root / "locked", 0)
    try:
        entries = list(walk_tree(str(root), dirs=True))
    finally:
        os.chmod(root / "locked", 0o700)
    by_rel = {e.rel: e for e in entries}
    if os.geteuid() != 0:  # root can list a mode-0 folder
        assert [e.error for e in entries if e.rel == "locked"] == ["", "unlisted"]
    assert by_rel["loop"].st is not None and by_rel["loop"].error == ""
    assert not any(e.rel.startswith("loop/") for e in entries)

