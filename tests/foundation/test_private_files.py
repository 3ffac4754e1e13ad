"""Everything dataward creates in its state folder and its outputs is private to its user
(0600 files, 0700 folders) whatever the umask it was started with (issue 16): run under
umask 022, as a cron job or a shell with the usual default would."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from tests.assets.conftest import INVENTORY, NwipeLogs

LINE = "Pupil Amelia Khan, UPN U820200014013, NHS 943 476 5919\n"


def _dataward(env: dict[str, str], *args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from dataward.cli.main import main; main()",
                           *map(str, args)], env=env, capture_output=True, text=True, check=False,
                          preexec_fn=lambda: os.umask(0o022))


def _too_open(*roots: Path) -> list[str]:
    bad = []
    for root in roots:
        for p in root.rglob("*"):  # the folders themselves are the test's
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode) or stat.S_ISSOCK(st.st_mode):
                continue
            if st.st_mode & 0o077:
                bad.append(f"{oct(st.st_mode & 0o777)} {p.relative_to(root.parent)}")
    return bad


def test_everything_dataward_writes_is_private_under_umask_022(tmp_path, gpg_home):
    home, share, out = tmp_path / "state", tmp_path / "share", tmp_path / "out"
    share.mkdir()
    out.mkdir()
    (share / "pupils.txt").write_text(LINE * 20)
    roster = tmp_path / "roster.csv"
    roster.write_text("Legal Forename,Legal Surname\nAmelia,Khan\n")
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(INVENTORY)
    env = {**os.environ, "DATAWARD_HOME": str(home)}
    env.pop("DATAWARD_CONFIG", None)

    r = _dataward(env, "init")
    assert r.returncode == 0, r.stdout + r.stderr
    (home / "dataward.yaml").write_text(yaml.safe_dump({
        "school": {"name": "Oakfield Primary School"},
        "sources": [{"name": "share", "path": str(share), "audience": "staff"}],
        "rosters": [{"path": str(roster), "kind": "pupils"}],
        "backup": {"recovery_keys": [gpg_home["recovery"]], "gnupghome": gpg_home["home"]},
        "assets": {"signing_key": gpg_home["school"], "gnupg_home": gpg_home["home"]},
    }))
    steps = [
        ("scan",),
        ("scan", share, "--out", out / "adhoc-scan"),
        ("report",),
        ("report", "--format", "csv", "--out", out / "report.csv"),
        ("backup", "run", "--target", out / "backup-repo", share),
        ("assets", "import", inventory),
        ("dispose", "record", "OAK-0042", "--method", "clear", "--route", "waste",
         "--recipient", "Acme Recycling Ltd", "--weee-note", "WTN-2026-118",
         "--authorised-by", "Jaswinder Patel", "--technician", "Samira Jones",
         "--date", "2026-03-12", "--evidence", NwipeLogs.ZERO_OK),
        ("dispose", "register", "--format", "csv", "--out", out / "register.csv"),
        ("dispose", "register", "--format", "parquet", "--out", out / "register.parquet"),
        ("audit", "verify"),
    ]
    for args in steps:
        r = _dataward(env, *args)
        assert r.returncode == 0, (args, r.stdout + r.stderr)

    made = {p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()}
    for expected in ("ledger.sqlite", "audit.head", "logs/dataward.log", "keys/fingerprint.key"):
        assert expected in made
    assert any(m.endswith("items.parquet") for m in made)
    assert any(m.startswith("reports/") for m in made)
    assert any(m.startswith("assets/certificates/") and m.endswith(".pdf") for m in made)
    assert any("cache" in m for m in made), sorted(made)
    assert (out / "adhoc-scan" / "items.parquet").exists()
    assert _too_open(home, out) == []
