"""The first hour of a new school: each thing that got in a new user's way (issue 12, 7)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATAWARD = str(Path(sys.executable).with_name("dataward"))


def _run(*args: str, home: Path, cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATAWARD_HOME": str(home), "COLUMNS": "80", **kw.pop("env", {})}
    return subprocess.run([DATAWARD, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, **kw)


def test_scan_before_init_says_to_run_init(tmp_path: Path, monkeypatch, cli):
    monkeypatch.setenv("DATAWARD_HOME", str(tmp_path / "fresh"))
    r = cli("scan")
    assert r.exit_code == 78
    assert "dataward init" in r.stderr


def test_a_bad_environment_override_names_the_variable(dw_home: Path, cli):
    r = cli("config", "check", env={"DATAWARD_SCAN__MAX_FILE_MB": "fifty"})
    assert r.exit_code == 78
    assert "environment variable DATAWARD_SCAN__MAX_FILE_MB" in r.stderr
    assert "dataward.yaml" not in r.stderr
    r = cli("config", "check", env={"DATAWARD_SOURCES": "[{"})
    assert r.exit_code == 78 and "DATAWARD_SOURCES" in r.stderr and "internal" not in r.stderr


def test_an_unknown_audience_is_refused(dw_home: Path, tmp_path: Path, cli):
    (dw_home / "dataward.yaml").write_text(
        f"sources: [{{name: year6, path: {tmp_path}, audience: pupil}}]\n")
    r = cli("config", "check")
    assert r.exit_code == 78
    assert "unknown audience 'pupil'" in r.stderr and "pupils" in r.stderr


def _roster_config(home: Path, share: Path, roster: Path) -> None:
    (home / "dataward.yaml").write_text(
        f"sources: [{{name: office, path: {share}, audience: admin}}]\n"
        f"rosters: [{{path: {roster}, kind: pupils}}]\n")


def test_config_check_fails_on_a_missing_source_or_roster(dw_home: Path, tmp_path: Path, cli):
    _roster_config(dw_home, tmp_path / "no-such-share", tmp_path / "no-such.csv")
    r = cli("config", "check")
    assert r.exit_code == 78, r.output
    assert "[MISSING]" in r.stdout and "no-such-share is missing" in r.stderr
    assert "roster" in r.stderr and "no-such.csv is missing" in r.stderr


def test_a_missing_roster_says_missing_not_malformed(dw_home: Path, tmp_path: Path, cli):
    share = tmp_path / "share"
    share.mkdir()
    _roster_config(dw_home, share, tmp_path / "pupils.csv")
    r = cli("scan")
    assert r.exit_code == 4, r.output        # not found, not 65 (malformed)
    assert "roster" in r.stderr and "is missing" in r.stderr


def test_an_empty_roster_is_an_error(dw_home: Path, tmp_path: Path, cli):
    share = tmp_path / "share"
    share.mkdir()
    roster = tmp_path / "pupils.csv"
    roster.write_text("UPN,Legal Forename,Legal Surname\n")
    _roster_config(dw_home, share, roster)
    r = cli("config", "check")
    assert r.exit_code == 78 and "lists nobody" in r.stderr
    assert cli("scan").exit_code == 65


def test_a_word_document_given_as_roster_gets_a_clean_message(dw_home: Path, tmp_path: Path, cli):
    import docx
    share = tmp_path / "share"
    share.mkdir()
    roster = tmp_path / "pupils.docx"
    d = docx.Document()
    d.add_paragraph("Forename, Surname")
    d.save(roster)
    _roster_config(dw_home, share, roster)
    for r in (cli("config", "check"), cli("scan")):
        assert r.exit_code in (65, 78)
        assert "is not a CSV file (it looks like a Word or Excel document" in r.stderr
        assert "Save As > CSV" in r.stderr
        assert all(ch.isprintable() or ch == "\n" for ch in r.stderr), r.stderr
        assert "PK" not in r.stderr and "\\x" not in r.stderr


def test_package_verify_without_a_terminal_gives_a_clean_error(dw_home: Path, tmp_path: Path):
    import zipfile
    pkg = tmp_path / "transfer-20250314-3f9a1c2b.zip"
    with zipfile.ZipFile(pkg, "w") as z:
        z.writestr("inner.zip", b"x")
    r = _run("package", "verify", str(pkg), home=dw_home, cwd=tmp_path,
             stdin=subprocess.DEVNULL)
    assert r.returncode == 2, r.stderr
    assert "no terminal to type the passphrase at" in r.stderr
    assert "--password-file" in r.stderr
    assert "Warning" not in r.stderr and "Aborted" not in r.stderr


def _commands():
    import typer.main

    from dataward.cli.main import app
    group = typer.main.get_command(app)

    def walk(cmd, path):
        yield path
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, path + [name])
    return list(walk(group, []))


@pytest.mark.parametrize("command", [[], ["scan"], ["serve"], ["package", "create"], ["status"]])
def test_help_reads_well_at_80_columns(command, dw_home: Path, tmp_path: Path):
    r = _run(*command, "--help", home=dw_home, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "<bool>" not in r.stdout             # flags take no value
    assert max(len(ln) for ln in lines) <= 80
    # Prose is reflowed, not cut into a line and a stray word: outside the option boxes, a
    # short line right after a full one, with the text going on below, is a bad break.
    texts = ["" if ln.lstrip().startswith(("│", "╭", "╰")) else
             "example" if ln.startswith("   ") and ln.strip() else ln.strip() for ln in lines]
    strays = [t for i, t in enumerate(texts[1:-1], 1)
              if t and len(t) < 40 and len(texts[i - 1]) > 60 and texts[i + 1]]
    assert not strays, strays


def test_no_command_help_shows_bool(cli):
    for path in _commands():
        r = cli(*path, "--help")
        assert "<bool>" not in r.stdout, path


def test_corrupt_exif_warnings_go_to_the_log_not_the_terminal(dw_home: Path, tmp_path: Path):
    from PIL import Image
    share = tmp_path / "share"
    share.mkdir()
    buf = io.BytesIO()
    # An EXIF block whose directory claims five entries and holds none.
    Image.new("RGB", (16, 16), (200, 10, 10)).save(
        buf, "JPEG", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00\x01\x02")
    (share / "sports day.jpg").write_bytes(buf.getvalue())
    r = _run("scan", str(share), "--out", str(tmp_path / "out"), home=dw_home, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Corrupt EXIF" not in r.stdout + r.stderr
    assert "UserWarning" not in r.stderr
    assert "Corrupt EXIF data" in (dw_home / "logs" / "dataward.log").read_text()


def test_the_quick_start_says_how_to_run_dataward_after_make_demo():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert ". .venv/bin/activate" in quick
    # `make demo` ends by saying how to run dataward (dry run: commands printed, not run).
    demo = subprocess.run(["make", "-n", "-C", str(ROOT), "demo"], capture_output=True,
                          text=True, timeout=60).stdout
    assert "'. .venv/bin/activate'" in demo.rsplit("dataward demo", 1)[1]


def test_output_piped_into_head_stops_quietly(dw_home: Path, tmp_path: Path):
    """`dataward exit-codes | head`: the reader goes away; dataward stops without an
    "internal error" or a traceback and exits 141, as a shell reports a writer its pipe
    stopped (not 1, dataward's fatal error)."""
    env = {**os.environ, "DATAWARD_HOME": str(dw_home), "COLUMNS": "80"}
    proc = subprocess.Popen([DATAWARD, "exit-codes"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()                       # head has read its lines and gone
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "internal error" not in err and "Traceback" not in err and "Exception" not in err
