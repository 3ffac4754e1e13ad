"""`dataward package create | verify | confirm | list` as the office manager uses them."""
from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from dataward.ledger import Ledger


def _passphrase(output: str) -> str:
    m = re.search(r"\b([a-z]+(?:-[a-z]+){5,})\b", output)
    assert m, output
    return m.group(1)


def _created(cli, school, *args: str):
    r = cli("package", "create", *args, "--out", school.out)
    assert r.exit_code == 0, r.output
    path = Path(re.search(r"package: (\S+)", r.stdout).group(1))
    pid = re.search(r"id: ([0-9a-f]{8})", r.stdout).group(1)
    return r, path, pid


def test_create_shows_the_passphrase_once_and_stores_it_nowhere(cli, school, pupil_files, tmp_path):
    r, path, pid = _created(cli, school, school.share / "Year 6", "--to", "Oakfield Academy",
                            "--purpose", "Year 6 transition")
    pw = _passphrase(r.stderr)
    assert pw not in r.stdout                       # stdout may go to a log: never there
    assert "by phone or SMS" in r.stderr
    assert path.name == f"transfer-{datetime.now(UTC):%Y%m%d}-{pid}.zip"
    assert "files: 6" in r.stdout
    # Nothing dataward keeps holds the passphrase, a file name or a file's contents.
    for f in school.home.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert pw.encode() not in data, f
            assert b"Jane Doe" not in data and b"transition.txt" not in data, f
    # ... and the recipient opens it with 7-Zip.
    subprocess.run(["7zz", "x", f"-p{pw}", f"-o{tmp_path / 'o'}", str(path)], check=True,
                   capture_output=True)
    # verify, with the passphrase from a file
    pwf = tmp_path / "pw"
    pwf.write_text(pw)
    v = cli("package", "verify", path, "--password-file", pwf)
    assert v.exit_code == 0, v.output
    assert f"OK: package {pid} opens (password); all 6 file(s) match the manifest" in v.stdout
    assert "matches the ledger's record" in v.stdout
    # verify, typing the passphrase at the prompt
    assert cli("package", "verify", path, input=pw + "\n").exit_code == 0


def test_ledger_and_audit_record_counts_and_hashes_never_names(cli, school, pupil_files):
    r, path, pid = _created(cli, school, school.share / "Year 6", "--to", "Oakshire LA",
                            "--purpose", "SEN transfer")
    with Ledger(school.settings().ledger_url) as ledger:
        rec = [a for a in ledger.audit_records(action_prefix="package.")][-1]
    assert rec.action == "package.create" and rec.subject == pid
    d = rec.details
    assert d["to"] == "Oakshire LA" and d["purpose"] == "SEN transfer"
    assert d["file_count"] == 6 and d["total_size"] == sum(map(len, pupil_files.values()))
    assert len(d["manifest_sha256"]) == 64 and d["method"] == "password"
    assert "Jane" not in json.dumps(d) and "Year 6" not in json.dumps(d)
    assert cli("audit", "verify").exit_code == 0


def test_tampered_package_fails_verify_with_exit_6(cli, school, pupil_files, tmp_path):
    r, path, pid = _created(cli, school, school.share, "--to", "LA")
    pw = _passphrase(r.stderr)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    (tmp_path / "pw").write_text(pw)
    v = cli("package", "verify", path, "--password-file", tmp_path / "pw")
    assert v.exit_code == 6
    assert "altered or damaged" in v.output


def test_own_password_from_a_file_or_prompt(cli, school, pupil_files, tmp_path):
    strong = "velvet-harbor-cinnamon-trapeze-glacier-mosaic-lantern"
    pwf = tmp_path / "pw"
    pwf.write_text(strong + "\n")
    r, path, _ = _created(cli, school, school.share, "--to", "LA", "--password-file", pwf)
    assert strong not in r.output and "passphrase (" not in r.stderr
    subprocess.run(["7zz", "t", f"-p{strong}", str(path)], check=True, capture_output=True)

    r2 = cli("package", "create", school.share, "--to", "LA", "--ask-password", "--out",
             school.out, input=f"{strong}\n{strong}\n")
    assert r2.exit_code == 0, r2.output
    assert strong not in r2.output


def test_weak_passwords_are_refused_and_never_echoed(cli, school, pupil_files, tmp_path):
    for weak in ("Summer2024!", "correct horse battery staple",
                 "tiger-tiger-tiger-tiger-tiger-tiger"):
        pwf = tmp_path / "pw"
        pwf.write_text(weak)
        r = cli("package", "create", school.share, "--to", "LA", "--password-file", pwf,
                "--out", school.out)
        assert r.exit_code == 5, (weak, r.output)
        assert "too weak" in r.output and weak not in r.output
    r = cli("package", "create", school.share, "--to", "LA", "--ask-password", "--out",
            school.out, input="Summer2024!\nSummer2024!\n")
    assert r.exit_code == 5
    assert list(school.out.iterdir()) == []


def test_recipient_key_refusals(cli, school, pupil_files, keyring):
    def create(*a):
        return cli("package", "create", school.share, "--to", "LA", "--out", school.out, *a)
    r = create("--recipient", "nobody@nowhere.example")
    assert r.exit_code == 4 and "no key for that recipient" in r.output
    r = create("--recipient", keyring["expired"])
    assert r.exit_code == 5 and "expired on 2016-01-01" in r.output
    r = create("--recipient", keyring["sign_only"])
    assert r.exit_code == 5 and "no usable encryption subkey" in r.output
    r = create("--recipient", "not a key")
    assert r.exit_code == 2
    r = create("--recipient", keyring["la"], "--password")
    assert r.exit_code == 2
    assert list(school.out.iterdir()) == []
    r = create("--recipient", keyring["la"])
    assert r.exit_code == 0, r.output
    assert keyring["la"] in r.stderr and "gpg --output package.zip --decrypt" in r.stderr


def test_size_limit_of_the_recipient(cli, school, pupil_files):
    school.write_config(max_package_mb=0.05, recipient_limits_mb={"Oakshire LA": 20})
    r = cli("package", "create", school.share, "--to", "Some School", "--out", school.out)
    assert r.exit_code == 5
    assert "over the recipient's limit of 0.05 MB" in r.output
    assert list(school.out.iterdir()) == []         # nothing left behind, not even .part
    with Ledger(school.settings().ledger_url) as ledger:
        assert not ledger.audit_records(action_prefix="package.")
    # The LA's own limit (20 MB) is set in the config: the same files go.
    r = cli("package", "create", school.share, "--to", "oakshire la", "--out", school.out)
    assert r.exit_code == 0, r.output


def test_confirm_and_list_awaiting(cli, school, pupil_files):
    _, _, old = _created(cli, school, school.share, "--to", "Old School")
    _, _, new = _created(cli, school, school.share, "--to", "New School")
    # Make the first package ten days old.
    s = school.settings()
    from dataward.transfer.store import packages_table
    with Ledger(s.ledger_url) as ledger, ledger.begin() as conn:
        conn.execute(update(packages_table).where(packages_table.c.package_id == old).values(
            created=(datetime.now(UTC) - timedelta(days=10)).isoformat()))

    r = cli("package", "list")                      # default: awaiting_days = 7
    assert r.exit_code == 0
    assert old in r.stdout and new not in r.stdout
    r = cli("package", "list", "--older-than", "0")
    assert old in r.stdout and new in r.stdout

    r = cli("package", "confirm", old, "--by", "A. Head, Old School", "--note", "phone")
    assert r.exit_code == 0, r.output
    assert "confirmed by A. Head, Old School, 10 day(s)" in r.stdout
    assert "no packages awaiting confirmation" in cli("package", "list").stdout
    assert cli("package", "confirm", old, "--by", "again").exit_code == 5
    assert cli("package", "confirm", "deadbeef", "--by", "x").exit_code == 4
    r = cli("package", "list", "--all")
    assert old in r.stdout and new in r.stdout and "confirmed by" in r.stdout
    with Ledger(s.ledger_url) as ledger:
        conf = ledger.audit_records(action_prefix="package.confirm")
    assert [c.subject for c in conf] == [old]
    assert conf[0].details["days_after_sending"] == 10


def test_every_package_command_has_help_with_an_example(cli):
    for cmd in ("create", "verify", "confirm", "list"):
        r = cli("package", cmd, "--help")
        assert r.exit_code == 0 and "Example:" in r.stdout
