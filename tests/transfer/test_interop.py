"""dataward's packages open in the recipient's tools: real 7-Zip and real gpg."""
from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

from dataward.transfer import PasswordMethod, PgpMethod, create_package


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_password_package_opens_in_7zip_and_matches_byte_for_byte(school, pupil_files, tmp_path):
    files = pupil_files
    res = create_package(school.settings(), [school.share / "Year 6"], recipient="Oakfield Academy",
                         purpose="transition", method=PasswordMethod(), out_dir=school.out)
    pw = res.generated_password
    assert res.path.name == f"transfer-{res.path.name[9:17]}-{res.package_id}.zip"

    # Without the passphrase, 7-Zip sees one neutral name and nothing else.
    listing = subprocess.run(["7zz", "l", "-slt", str(res.path)], capture_output=True,
                             text=True).stdout
    assert "Path = contents.zip" in listing
    assert "Jane" not in listing and "Year 6" not in listing
    assert "Method = Store AES-256" in listing or "AES-256" in listing

    outer = tmp_path / "outer"
    subprocess.run(["7zz", "x", f"-p{pw}", f"-o{outer}", str(res.path)], check=True,
                   capture_output=True)
    assert sorted(_tree(outer)) == ["contents.zip"]
    inner = tmp_path / "inner"
    subprocess.run(["7zz", "x", f"-o{inner}", str(outer / "contents.zip")], check=True,
                   capture_output=True)
    got = _tree(inner)
    manifest = json.loads(got.pop("MANIFEST-dataward.json"))
    assert got == files
    assert {f["name"] for f in manifest["files"]} == set(files)
    assert manifest["to"] == "Oakfield Academy" and manifest["method"] == "password"


def test_wrong_passphrase_does_not_open_in_7zip(school, pupil_files, tmp_path):
    res = create_package(school.settings(), [school.share], recipient="LA",
                         method=PasswordMethod(), out_dir=school.out)
    r = subprocess.run(["7zz", "x", "-pnot-the-passphrase", f"-o{tmp_path / 'x'}", str(res.path)],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "Wrong password" in r.stdout + r.stderr


def test_pgp_package_opens_with_plain_gpg_decrypt(school, pupil_files, keyring, tmp_path):
    files = pupil_files
    res = create_package(school.settings(), [school.share / "Year 6"],
                         recipient="Oakshire County Council",
                         method=PgpMethod(keyring["la"]), out_dir=school.out)
    assert res.path.name.endswith(".zip.gpg")
    assert res.recipient_key and res.recipient_key.fingerprint == keyring["la"]
    plain = tmp_path / "got.zip"
    subprocess.run(["gpg", "--homedir", keyring["home"], "--batch", "--output", str(plain),
                    "--decrypt", str(res.path)], check=True, capture_output=True)
    with zipfile.ZipFile(plain) as z:
        got = {n: z.read(n) for n in z.namelist()}
    got.pop("MANIFEST-dataward.json")
    assert got == files
    # AES-256, and the recipient's key id is visible unless hidden.
    packets = subprocess.run(["gpg", "--homedir", keyring["home"], "--batch", "--list-packets",
                              str(res.path)], capture_output=True, text=True).stdout
    assert "keyid 0000000000000000" not in packets
    raw = res.path.read_bytes()
    assert b"Jane" not in raw and b"Year 6" not in raw


def test_hidden_recipient_still_decrypts(school, pupil_files, keyring, tmp_path):
    res = create_package(school.settings(), [school.share], recipient="LA",
                         method=PgpMethod("schools.data@oakshire.example", hidden=True),
                         out_dir=school.out)
    packets = subprocess.run(["gpg", "--homedir", keyring["home"], "--batch", "--list-packets",
                              str(res.path)], capture_output=True, text=True)
    assert "keyid 0000000000000000" in packets.stdout + packets.stderr
    r = subprocess.run(["gpg", "--homedir", keyring["home"], "--batch", "--output",
                        str(tmp_path / "x.zip"), "--decrypt", str(res.path)], capture_output=True)
    assert r.returncode == 0
    assert zipfile.ZipFile(tmp_path / "x.zip").testzip() is None
