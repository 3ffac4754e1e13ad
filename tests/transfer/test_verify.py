"""`package verify`: OpenPGP packages, and packages re-packed by someone who knew the
passphrase (the AES layer is intact, so only the manifest and the ledger catch them)."""
from __future__ import annotations

import io
import json
import subprocess
import zipfile

import pyzipper
import pytest

from dataward.errors import IntegrityError, InputError, WrongKeyError
from dataward.transfer import (
    PasswordMethod, PgpMethod, create_package, verify_package,
)


def _repack(path, password: str, change) -> None:
    """Decrypt the package, let ``change`` edit the inner members, encrypt it again."""
    with pyzipper.AESZipFile(path) as oz:
        inner = oz.read("contents.zip", pwd=password.encode())
    with zipfile.ZipFile(io.BytesIO(inner)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    change(members)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    path.unlink()
    with pyzipper.AESZipFile(path, "w", encryption=pyzipper.WZ_AES) as oz:
        oz.setpassword(password.encode())
        oz.writestr("contents.zip", buf.getvalue())


@pytest.fixture
def made(school, pupil_files):
    return create_package(school.settings(), [school.share / "Year 6"], recipient="LA",
                          method=PasswordMethod(), out_dir=school.out)


def test_a_changed_file_is_caught_by_the_manifest(school, made):
    def change(m):
        m["Year 6/class list.csv"] = m["Year 6/class list.csv"].replace(b"Doe", b"Roe")
    _repack(made.path, made.generated_password, change)
    with pytest.raises(IntegrityError) as e:
        verify_package(school.settings(), made.path, password=made.generated_password)
    assert "does not match its manifest" in str(e.value)
    assert "does not match its SHA-256" in str(e.value) and "class list" not in str(e.value)


def test_an_added_or_removed_file_is_caught(school, made):
    _repack(made.path, made.generated_password, lambda m: m.update({"extra.exe": b"MZ"}))
    with pytest.raises(IntegrityError, match="not in the manifest"):
        verify_package(school.settings(), made.path, password=made.generated_password)
    _repack(made.path, made.generated_password, lambda m: m.pop("Year 6/report.docx"))
    with pytest.raises(IntegrityError, match="missing from the package"):
        verify_package(school.settings(), made.path, password=made.generated_password)


def test_a_consistent_forgery_is_caught_by_the_ledger(school, made):
    def forge(m):
        m["Year 6/empty.txt"] = b"forged"
        man = json.loads(m["MANIFEST-dataward.json"])
        for f in man["files"]:
            if f["name"] == "Year 6/empty.txt":
                import hashlib
                f["size"], f["sha256"] = 6, hashlib.sha256(b"forged").hexdigest()
        m["MANIFEST-dataward.json"] = json.dumps(man).encode()
    _repack(made.path, made.generated_password, forge)
    with pytest.raises(IntegrityError, match="differs from the one dataward recorded"):
        verify_package(school.settings(), made.path, password=made.generated_password)


def test_untouched_package_verifies(school, made):
    v = verify_package(school.settings(), made.path, password=made.generated_password)
    assert v.dataward and v.files_ok == 6 and v.ledger == "match" and v.notes == []


def test_openpgp_package_verify_tamper_and_missing_secret_key(cli, school, pupil_files,
                                                             keyring, tmp_path):
    res = create_package(school.settings(), [school.share], recipient="LA",
                         method=PgpMethod(keyring["la"]), out_dir=school.out)
    r = cli("package", "verify", res.path)
    assert r.exit_code == 0, r.output
    assert f"OK: package {res.package_id} opens (openpgp); all 6 file(s)" in r.stdout

    # Only the public key: the school cannot open what it sent to the LA.
    pub_home = tmp_path / "g"
    pub_home.mkdir(mode=0o700)
    exported = subprocess.run(["gpg", "--homedir", keyring["home"], "--export", keyring["la"]],
                              capture_output=True, check=True).stdout
    subprocess.run(["gpg", "--homedir", str(pub_home), "--batch", "--import"], input=exported,
                   capture_output=True, check=True)
    s = school.settings()
    s2 = s.model_copy(update={"transfer": s.transfer.model_copy(update={"gnupg_home": pub_home})})
    with pytest.raises(WrongKeyError, match="no secret key"):
        verify_package(s2, res.path)
    subprocess.run(["gpgconf", "--homedir", str(pub_home), "--kill", "gpg-agent"],
                   capture_output=True)

    data = bytearray(res.path.read_bytes())
    data[len(data) // 2] ^= 0x04
    res.path.write_bytes(bytes(data))
    r = cli("package", "verify", res.path)
    assert r.exit_code == 6, r.output


def test_a_file_that_is_no_package(cli, school, pupil_files):
    r = cli("package", "verify", school.share / "Year 6" / "photos" / "IMG_0001.jpg")
    assert r.exit_code == 65 and "not a transfer package" in r.output
    with pytest.raises(InputError):
        verify_package(school.settings(), school.share / "Year 6" / "class list.csv")
