"""Transfer packages against the issue-16 battery: hard links, the `.part` file a
`kill -9` leaves, and passphrases a guesser would try first."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STRONG = "velvet-harbor-cinnamon-trapeze-glacier-mosaic-lantern"


def test_a_hard_linked_file_is_refused_named_or_inside_a_folder(cli, school, pupil_files, tmp_path):
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("held outside every allowed root\n")
    os.link(outside, school.share / "Year 6" / "linked.txt")
    pwf = tmp_path / "pw"
    pwf.write_text(STRONG)
    for arg in (school.share / "Year 6", school.share / "Year 6" / "linked.txt"):
        r = cli("package", "create", arg, "--to", "LA", "--password-file", pwf,
                "--out", school.out)
        assert r.exit_code == 77, r.output
        assert "2 hard links" in " ".join(r.output.split())
    assert list(school.out.iterdir()) == []


def test_a_part_file_left_by_kill_9_is_removed_by_the_next_run(school, tmp_path):
    big = school.share / "big"
    big.mkdir()
    for i in range(6):
        (big / f"scan-{i}.bin").write_bytes(os.urandom(20_000_000))
    pwf = tmp_path / "pw"
    pwf.write_text(STRONG)
    env = {**os.environ, "DATAWARD_HOME": str(school.home), "DATAWARD_CONFIG": str(school.config)}
    school.write_config(max_package_mb=1000, compress_level=9)
    cmd = [sys.executable, "-c", "from dataward.cli.main import main; main()", "package",
           "create", str(big), "--to", "LA", "--password-file", str(pwf), "--out", str(school.out)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    parts: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        parts = [p for p in school.out.iterdir() if p.name.endswith(".part")]
        if parts and parts[0].stat().st_size > 5_000_000:
            break
        time.sleep(0.02)
    assert proc.poll() is None and parts, "the package was finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert parts[0].exists()  # kill -9 cannot be caught: the encrypted part is left

    small = school.share / "small"
    small.mkdir()
    (small / "note.txt").write_text("transition note\n")
    done = subprocess.run(cmd[:5] + [str(small)] + cmd[6:], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    left = sorted(p.name for p in school.out.iterdir())
    assert len(left) == 1 and left[0].startswith("transfer-") and left[0].endswith(".zip")


def test_the_school_and_purpose_as_a_passphrase_are_refused(cli, school, pupil_files, tmp_path):
    pwf = tmp_path / "pw"
    for weak in ("Oakfield Primary School Year Six Transfer Records Twenty Twenty Five",
                 "The quick brown fox jumps over the lazy dog near the riverbank"):
        pwf.write_text(weak)
        r = cli("package", "create", school.share, "--to", "Oakfield Academy", "--purpose",
                "Year Six transfer records", "--password-file", pwf, "--out", school.out)
        assert r.exit_code == 5, (weak, r.output)
        assert "too weak" in r.output and weak not in r.output
    assert list(school.out.iterdir()) == []


def test_generated_passphrases_still_pass_with_the_school_context():
    from dataward.transfer.passphrase import (
        check_password,
        context_words,
        generate_passphrase,
    )
    context = ["Oakfield Primary School", "oakfield.sch.uk", "Oakfield Academy",
               "Year Six transfer records"]
    words = set(context_words(context))
    checked = 0
    for _ in range(200):
        phrase = generate_passphrase()
        if words & set(phrase.split("-")):
            continue  # a context word drawn by chance is rightly worth less
        for form in (phrase, phrase.replace("-", " ").title()):
            assert check_password(form, 77, context) >= 77
        checked += 1
    assert checked > 150
