"""Config loading: YAML, environment overrides, and one clear line for a bad config."""
from __future__ import annotations

import os
import stat

import pytest

from dataward.errors import ConfigError
from dataward.settings import load_settings


def test_example_config_loads():
    s = load_settings("config/dataward.example.yaml")
    assert [x.name for x in s.sources] == ["staff", "pupils", "admin"]
    assert s.sources[1].audience == "pupils"
    assert s.schedules.nightly_scan.timezone == "Europe/London"


def test_relative_paths_are_relative_to_the_file(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("sources:\n  - {name: s, path: shares/staff}\n")
    assert load_settings(cfg).sources[0].path == tmp_path / "shares" / "staff"


def test_environment_overrides_yaml(tmp_path, monkeypatch):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("scan: {max_file_mb: 5, score_threshold: 0.6}\n")
    monkeypatch.setenv("DATAWARD_SCAN__MAX_FILE_MB", "7")
    s = load_settings(cfg)
    assert s.scan.max_file_mb == 7 and s.scan.score_threshold == 0.6


@pytest.mark.parametrize("text, expected", [
    ("scan: {max_fle_mb: 5}\n", "scan.max_fle_mb: unknown key"),
    ("scan: {max_file_mb: lots}\n", "scan.max_file_mb: Input should be a valid number"),
    ("sources:\n  - {name: a, path: x}\n  - {name: a, path: y}\n", "repeated: a"),
    ("sources: [{path: x}]\n", "sources.0.name: Field required"),
    ("scan: [\n", "not valid YAML"),
    ("- a\n- b\n", "top level must be a mapping"),
])
def test_bad_config_names_key_and_problem(tmp_path, text, expected):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert expected in str(info.value) and str(cfg) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_named_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_init_makes_private_state_folder_and_key(cli, tmp_path, monkeypatch):
    home = tmp_path / "state"
    monkeypatch.setenv("DATAWARD_HOME", str(home))
    r = cli("init")
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    key = home / "keys" / "fingerprint.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600 and len(key.read_bytes()) == 32
    assert (home / "dataward.yaml").exists()
    # A second init keeps the key: a new one would orphan every fingerprint.
    before = key.read_bytes()
    assert cli("init", "--force").exit_code == 0
    assert key.read_bytes() == before


def test_state_dir_from_config_when_no_env(tmp_path, monkeypatch):
    monkeypatch.delenv("DATAWARD_HOME", raising=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("state_dir: st\n")
    assert load_settings(cfg).home == tmp_path / "st"


def test_every_command_has_help_with_an_example(cli):
    """Every command teaches: a docstring with an example line."""
    from dataward.cli.main import app
    import typer.main
    group = typer.main.get_command(app)

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, path + [name])
        else:
            yield path, cmd

    commands = list(walk(group, []))
    missing = [" ".join(p) for p, c in commands if not (c.help or "").strip()]
    assert not missing, f"commands without help: {missing}"
    no_example = [" ".join(p) for p, c in commands if "Example" not in (c.help or "")]
    assert not no_example, f"commands whose help has no example: {no_example}"
    # Every command is documented for users: the README or a page under docs/.
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    docs = (root / "README.md").read_text() + "".join(
        p.read_text() for p in (root / "docs").glob("*.md"))
    undocumented = [" ".join(p) for p, _ in commands if f"dataward {' '.join(p)}" not in docs]
    assert not undocumented, f"commands missing from README/docs: {undocumented}"
    r = cli("--help")
    assert r.exit_code == 0 and "scan" in r.stdout


def test_config_check_shows_what_the_config_resolves_to(cli, dw_home, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"sources:\n  - {{name: staff, path: {share}}}\n"
                   f"  - {{name: gone, path: {tmp_path / 'gone'}, audience: pupils}}\n")
    r = cli("--config", cfg, "config", "check")
    assert r.exit_code == 78, r.output   # a missing source is a problem to fix
    assert f"state folder: {dw_home}" in r.stdout
    assert "source staff: share" in r.stdout and "[ok]" in r.stdout
    assert "source gone: share" in r.stdout and "audience=pupils [MISSING]" in r.stdout


def test_exit_codes_are_listed_from_the_error_tree(cli):
    from dataward.errors import DatawardError
    r = cli("exit-codes")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    for cls in (DatawardError, *DatawardError.__subclasses__()):
        assert any(ln.split()[:2] == [str(cls.exit_code), cls.__name__] for ln in lines), cls
    assert any(ln.split()[0] == "130" for ln in lines)
    assert any(ln.split()[0] == "141" for ln in lines)


def test_audit_log_lists_records(cli, dw_home):
    assert cli("init").exit_code == 0
    r = cli("audit", "log", "--last", "5")
    assert r.exit_code == 0 and "init" in r.stdout


def test_every_exit_code_comes_from_the_error_tree():
    """No command exits with a number written on the spot: errors.py holds the table."""
    import ast
    from pathlib import Path

    import dataward

    literal = []
    for path in Path(dataward.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args \
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value not in (0, None):
                name = ast.unparse(node.func)
                if name in ("typer.Exit", "sys.exit", "SystemExit", "exit", "os._exit"):
                    literal.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    assert literal == []
