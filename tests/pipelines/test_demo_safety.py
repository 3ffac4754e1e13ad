"""`dataward demo` writes only into a folder of its own and never touches a school's setup
(issue: the demo once replaced a real config and wrote into the real ledger)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_demo_refuses_a_state_folder_that_is_not_a_demo(dw_home: Path, cli):
    (dw_home / "dataward.yaml").write_text("school: {name: Real School}\n")
    before = _tree(dw_home)
    r = cli("demo", "--no-prefect", "--pupils", "5")
    assert r.exit_code == 5, r.output
    assert "is not a demo's folder" in r.stderr and "DATAWARD_HOME" in r.stderr
    assert _tree(dw_home) == before        # not one file added or changed


def test_demo_without_dataward_home_uses_its_own_folder_never_the_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli):
    # A school's real setup in the per-user default state folder.
    user_home = tmp_path / "user"
    monkeypatch.setenv("HOME", str(user_home))
    monkeypatch.setenv("XDG_DATA_HOME", str(user_home / ".local" / "share"))
    real = user_home / ".local" / "share" / "dataward"
    real.mkdir(parents=True)
    (real / "dataward.yaml").write_text("school: {name: Real School}\n")
    before = _tree(real)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("DATAWARD_HOME")
    monkeypatch.delenv("DATAWARD_CONFIG", raising=False)

    r = cli("demo", "--no-prefect", "--pupils", "5")
    assert r.exit_code == 0, r.output
    demo = work / ".dataward-demo"
    assert (demo / ".dataward-demo-home").is_file()
    assert (demo / "dataward.yaml").read_text().startswith("# dataward demo configuration")
    assert any((demo / "scans").iterdir()) and (demo / "ledger.sqlite").exists()
    assert _tree(real) == before            # the school's folder is as it was
    assert sorted(p.name for p in work.iterdir()) == [".dataward-demo"]
    # A second demo reuses its own folder.
    os.environ.pop("DATAWARD_HOME", None)
    assert cli("demo", "--no-prefect", "--pupils", "5").exit_code == 0
    assert _tree(real) == before


def test_demo_refuses_the_default_state_folder_even_when_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("DATAWARD_HOME", str(tmp_path / "share" / "dataward"))
    r = cli("demo", "--no-prefect", "--pupils", "5")
    assert r.exit_code == 5 and "default state folder" in r.stderr
    assert not (tmp_path / "share" / "dataward").exists()


def test_a_demo_folder_made_before_the_marker_is_still_the_demos(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli):
    home = tmp_path / "old-demo"
    home.mkdir()
    (home / "dataward.yaml").write_text("# dataward demo configuration (made by `dataward demo`).\n")
    (home / "ledger.sqlite").write_bytes(b"")
    monkeypatch.setenv("DATAWARD_HOME", str(home))
    r = cli("demo", "--no-prefect", "--pupils", "5")
    assert r.exit_code == 0, r.output
    assert (home / ".dataward-demo-home").is_file()
