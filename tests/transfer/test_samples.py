"""`package verify` on encrypted zips made by other tools (tests/data/samples): it reads
the WinZip-AES ones (7-Zip, p7zip, WinRAR AE-1, libzip, zip4j; AES-128/192/256, stored
and deflated), and refuses a corrupt MAC, ZipCrypto, PKWARE strong encryption and an
encrypted central directory, each with its own exit code."""
from __future__ import annotations


import pytest

from tests.samples import SAMPLES


@pytest.fixture
def verify(cli, school, tmp_path):
    def run(rel: str, password: str):
        pw = tmp_path / "pw.txt"
        pw.write_text(password + "\n")
        return cli("package", "verify", SAMPLES / rel, "--password-file", pw)
    return run


@pytest.mark.parametrize("rel, password, members", [
    ("puren_tonbo/aesop_win_7z.aes256.zip", "password", 1),
    ("puren_tonbo/aesop_win_7z.aes256stored.zip", "password", 1),
    ("puren_tonbo/aesop_linux_7z.aes256.zip", "password", 1),
    ("puren_tonbo/aesop_win_winrar.aes256.zip", "password", 1),         # AE-1: CRC kept
    ("puren_tonbo/aesop_win_winrar.aes256stored.zip", "password", 1),
    ("libarchive/test_read_format_zip_winzip_aes128.zip", "password", 1),
    ("libarchive/test_read_format_zip_winzip_aes256.zip", "password", 1),
    ("libarchive/test_read_format_zip_winzip_aes256_stored.zip", "password", 1),
    ("libarchive/test_read_format_zip_winzip_aes256_large.zip", "password", 4),
])
def test_reads_aes_zips_from_other_tools(verify, rel, password, members):
    r = verify(rel, password)
    assert r.exit_code == 0, r.output
    assert f"{members} member(s) read, {members} AES-encrypted and authenticated" in r.stdout
    assert "not a dataward package" in r.output


@pytest.mark.parametrize("rel", ["libzip/encrypt-aes128.zip", "libzip/encrypt-aes192.zip",
                                 "libzip/encrypt-aes256.zip"])
def test_libzip_aes_with_a_plain_member_is_read_and_the_plain_member_flagged(verify, rel):
    r = verify(rel, "foofoofoo")
    assert r.exit_code == 0, r.output
    assert "2 member(s) read, 1 AES-encrypted" in r.stdout
    assert "1 member(s) are NOT encrypted" in r.output


def test_corrupt_mac_is_refused_as_tampering(verify):
    r = verify("zip4j/aes_with_extra_data_record_and_corrupt_mac.zip", "test123!")
    assert r.exit_code == 6
    assert "failed its authentication check (AES HMAC)" in r.output
    assert "Traceback" not in r.output


def test_wrong_password_on_an_aes_sample(verify):
    r = verify("puren_tonbo/aesop_win_7z.aes256.zip", "passw0rd")
    assert r.exit_code == 12
    assert "password does not open this package" in r.output


def test_member_with_another_password_is_a_wrong_key(verify):
    r = verify("zip4j/zip_with_different_passwords.zip", "password_1")
    assert r.exit_code == 12


@pytest.mark.parametrize("rel, password", [
    ("puren_tonbo/aesop_win_7z.old.zip", "password"),
    ("libzip/encrypt.zip", "foo"),
    ("libarchive/test_read_format_zip_traditional_encryption_data.zip", "12345678"),
])
def test_zipcrypto_is_refused(verify, rel, password):
    r = verify(rel, password)
    assert r.exit_code == 5
    assert "ZipCrypto" in r.output


def test_pkware_strong_encryption_is_refused(verify):
    r = verify("zip4j/strong_encrypted.zip", "12345678")
    assert r.exit_code == 5
    assert "strong encryption" in r.output


def test_encrypted_central_directory_is_an_input_error(verify):
    r = verify("libarchive/test_read_format_zip_encryption_header.zip", "password")
    assert r.exit_code == 65
    assert "not a zip dataward can read" in r.output
