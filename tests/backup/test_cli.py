"""`dataward backup ...` as a technician uses it, with and without a config file."""
from __future__ import annotations

import os

import yaml

from dataward.ledger import Ledger
from dataward.backup.records import backup_snapshots, last_restore_test
from dataward.settings import load_settings


def test_run_with_no_config_file_then_list_restore_verify_prune(cli, dw_home, gpg_home,
                                                                make_tree, tmp_path):
    assert not (dw_home / "dataward.yaml").exists() or (dw_home / "dataward.yaml").unlink() is None
    src = make_tree({"Governors/minutes.txt": b"minutes " * 1000, "r.bin": os.urandom(50_000)})
    target = tmp_path / "usb"
    env = {"DATAWARD_BACKUP__GNUPGHOME": gpg_home["home"]}
    # No repository and no recovery key: a clear error, exit 10.
    r = cli("backup", "run", "--target", target, src, env=env)
    assert r.exit_code == 10 and "backup init" in r.output
    r = cli("backup", "run", "--target", target, "--recovery-key", gpg_home["recovery"], src, env=env)
    assert r.exit_code == 0, r.output
    assert "2 files" in r.stdout and "minutes" not in r.output
    r = cli("backup", "run", "--target", target, src, env=env)
    assert r.exit_code == 0 and "(2 unchanged)" in r.stdout
    r = cli("backup", "list", "--target", target, env=env)
    assert r.exit_code == 0 and r.stdout.count(str(src)) == 2
    out = tmp_path / "restored"
    r = cli("backup", "restore", "latest", str(src / "Governors"), "--to", out, "--target", target,
            env=env)
    assert r.exit_code == 0, r.output
    assert (out / src.relative_to("/") / "Governors" / "minutes.txt").read_bytes() == b"minutes " * 1000
    assert not (out / src.relative_to("/") / "r.bin").exists()
    r = cli("backup", "verify", "--read-data", "100", "--target", target, env=env)
    assert r.exit_code == 0 and ": ok" in r.stdout
    # prune is a dry run unless --apply; it says why each snapshot is kept.
    r = cli("backup", "prune", "--keep-last", "1", "--keep-daily", "0", "--keep-weekly", "0",
            "--keep-monthly", "0", "--keep-yearly", "0", "--target", target, env=env)
    assert r.exit_code == 0 and "one of the newest" in r.stdout and "dry run" in r.stdout
    assert len(list((target / "snapshots").iterdir())) == 2
    r = cli("backup", "prune", "--keep-last", "1", "--keep-daily", "0", "--keep-weekly", "0",
            "--keep-monthly", "0", "--keep-yearly", "0", "--apply", "--target", target, env=env)
    assert r.exit_code == 0 and "deleted 1 snapshots" in r.stdout
    assert len(list((target / "snapshots").iterdir())) == 1
    # The ledger has both snapshots and an audit trail with no file names.
    with Ledger(f"sqlite:///{dw_home / 'ledger.sqlite'}") as ledger:
        assert ledger.count(backup_snapshots) == 2
        actions = [a.action for a in ledger.audit_records(action_prefix="backup.")]
        assert actions[:3] == ["backup.init", "backup.run", "backup.run"] and "backup.prune" in actions
        assert "minutes" not in str([a.details for a in ledger.audit_records()])
        assert ledger.verify_audit().ok


def test_configured_targets_and_the_termly_restore_test(cli, dw_home, gpg_home, make_tree, tmp_path):
    src = make_tree({f"class{i}/register.csv": f"row {i}\n".encode() * 500 for i in range(6)})
    cfg = {"backup": {"paths": [str(src)], "recovery_keys": [gpg_home["recovery"]],
                      "gnupghome": gpg_home["home"], "chunk_avg_kib": 64,
                      "targets": [{"name": "usb", "url": str(tmp_path / "usb")},
                                  {"name": "nas", "url": str(tmp_path / "nas")}]}}
    (dw_home / "dataward.yaml").write_text(yaml.safe_dump(cfg))
    r = cli("backup", "init")
    assert r.exit_code == 0 and r.stdout.count("created") == 2
    r = cli("backup", "init", "--target", "usb")
    assert r.exit_code == 2 and "already" in r.output
    r = cli("backup", "run")
    assert r.exit_code == 0 and "usb:" in r.stdout and "nas:" in r.stdout
    r = cli("backup", "restore-test", "--files", "3", "--target", "nas")
    assert r.exit_code == 0 and "passed: 3 of 3" in r.stdout, r.output
    with Ledger(load_settings().ledger_url) as ledger:
        rec = last_restore_test(ledger)
    assert rec.status == "passed" and rec.files_checked == 3 and rec.target == "nas"
    assert not list(dw_home.glob("dw-restore-test-*"))  # the scratch folder is gone


def test_every_backup_command_has_help_with_an_example(cli):
    r = cli("backup", "--help")
    assert r.exit_code == 0
    for cmd in ("init", "run", "list", "restore", "verify", "prune", "restore-test"):
        h = cli("backup", cmd, "--help")
        assert h.exit_code == 0 and "Example:" in h.stdout, cmd


def test_a_rebuilt_server_joins_its_repository_with_a_recovery_key(cli, dw_home, gpg_home,
                                                                   make_tree, tmp_path):
    import shutil
    src = make_tree({"a.txt": b"A" * 5000})
    target = tmp_path / "nas"
    env = {"DATAWARD_BACKUP__GNUPGHOME": gpg_home["home"]}
    assert cli("backup", "run", "--target", target, "--recovery-key", gpg_home["recovery"], src,
               env=env).exit_code == 0
    shutil.rmtree(dw_home / "keys")  # the server was rebuilt: its keys are gone
    (dw_home / "keys").mkdir(mode=0o700)
    r = cli("backup", "run", "--target", target, src, env=env)
    assert r.exit_code == 12 and "holds no keys" in r.output
    r = cli("backup", "init", "--join", "--target", target, env=env)
    assert r.exit_code == 0 and "can now write" in r.stdout
    assert "private_key" not in next((dw_home / "keys").glob("backup-*.json")).read_text()
    r = cli("backup", "run", "--target", target, src, env=env)
    assert r.exit_code == 0 and "new data 0.0 MB" in r.stdout


def test_a_repository_of_a_newer_format_is_refused_clearly(cli, dw_home, gpg_home, make_tree,
                                                           tmp_path):
    import json
    src = make_tree({"a.txt": b"x\n"})
    target = tmp_path / "usb"
    env = {"DATAWARD_BACKUP__GNUPGHOME": gpg_home["home"]}
    r = cli("backup", "run", "--target", target, "--recovery-key", gpg_home["recovery"], src, env=env)
    assert r.exit_code == 0, r.output
    # A newer dataward upgraded the repository (docs/backup.md, "Versioning").
    cfg = json.loads((target / "config").read_text())
    (target / "config").write_text(json.dumps({**cfg, "version": 2}))
    before = sorted(p.name for p in target.rglob("*"))
    for args in (["init", "--recovery-key", gpg_home["recovery"]], ["run", str(src)], ["list"]):
        r = cli("backup", *args, "--target", target, env=env)
        assert r.exit_code == 2, r.output
        assert "format version 2" in r.output and "newer dataward" in r.output
        assert "reads and writes version 1" in r.output
    assert sorted(p.name for p in target.rglob("*")) == before  # nothing was changed


def test_the_console_entry_builds_only_the_named_group_and_keeps_the_root_options(
        dw_home, gpg_home, make_tree, tmp_path):
    """`dataward --config FILE backup ...` through the console entry point (which builds
    only the `backup` group): the root's --config still applies, the root's help still
    lists every group, and an unknown command is still refused."""
    import subprocess
    import sys

    from dataward.cli.main import _app_for, app
    assert [g.name for g in _app_for(["-c", "x.yaml", "backup", "run"]).registered_groups] \
        == ["backup"]
    assert _app_for(["--help"]) is app and _app_for(["status"]) is app
    src = make_tree({"a.txt": b"a\n" * 100})
    cfg = tmp_path / "elsewhere.yaml"
    cfg.write_text(yaml.safe_dump({"backup": {
        "recovery_keys": [gpg_home["recovery"]], "gnupghome": gpg_home["home"],
        "targets": [{"name": "usb", "url": str(tmp_path / "usb")}]}}))
    entry = [sys.executable, "-c", "from dataward.cli.main import main; main()"]
    env = {**os.environ, "DATAWARD_HOME": str(dw_home)}
    env.pop("DATAWARD_CONFIG", None)
    r = subprocess.run([*entry, "--config", cfg, "backup", "run", src], env=env,
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0 and r.stdout.startswith("usb: snapshot"), r.stderr
    r = subprocess.run([*entry, "backup", "run", src], env=env, capture_output=True,
                       text=True, check=False)
    assert r.returncode == 78 and "no backup target" in r.stderr  # no --config: not found
    r = subprocess.run([*entry, "--help"], env=env, capture_output=True, text=True, check=False)
    assert r.returncode == 0 and all(g in r.stdout for g in ("backup", "retention", "assets"))
    r = subprocess.run([*entry, "backup", "nosuch"], env=env, capture_output=True, text=True,
                       check=False)
    assert r.returncode == 2 and "No such command" in r.stderr
