"""Fixtures for transfer packages: an allowed root with real files, a config that points
at it, and a private GnuPG keyring with a recipient key and an expired key."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

LA_UID = "Oakshire County Council Schools Data <schools.data@oakshire.example>"
EXPIRED_UID = "Old Academy <office@old-academy.example>"
SIGN_ONLY_UID = "Sign Only Trust <sign@only.example>"


def _gpg(home: str, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback",
                           "--passphrase", "", *args], check=True, capture_output=True, **kw)


def _fpr(home: str, uid: str) -> str:
    out = _gpg(home, "--with-colons", "--list-keys", uid, text=True).stdout
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


@pytest.fixture(scope="session")
def keyring() -> dict[str, str]:
    """{"home", "la", "expired", "sign_only"}: a keyring made by real gpg. The LA key can
    encrypt; the expired one was made in 2015 and expired in 2016; the third has no
    encryption subkey."""
    home = tempfile.mkdtemp(prefix="dwtx-")  # short: gpg-agent's socket path is limited
    os.chmod(home, 0o700)
    _gpg(home, "--quick-gen-key", LA_UID, "ed25519", "sign,cert", "2y")
    la = _fpr(home, LA_UID)
    _gpg(home, "--quick-add-key", la, "cv25519", "encr", "2y")
    _gpg(home, "--faked-system-time", "20150101T000000", "--quick-gen-key", EXPIRED_UID,
         "ed25519", "sign,cert", "2016-01-01")
    old = _fpr(home, EXPIRED_UID)
    _gpg(home, "--faked-system-time", "20150101T000000", "--quick-add-key", old, "cv25519",
         "encr", "2016-01-01")
    _gpg(home, "--quick-gen-key", SIGN_ONLY_UID, "ed25519", "sign,cert", "2y")
    yield {"home": home, "la": la, "expired": old, "sign_only": _fpr(home, SIGN_ONLY_UID)}
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


@dataclass
class School:
    """A state folder, a config file, an allowed share with files, an output folder."""

    home: Path
    config: Path
    share: Path
    out: Path
    gnupg_home: str

    def write_config(self, **transfer: object) -> None:
        section = {"allowed_roots": [str(self.share)], "gnupg_home": self.gnupg_home,
                   "scan_before_packaging": False, **transfer}
        self.config.write_text(yaml.safe_dump({"school": {"name": "Oakfield Primary School"},
                                               "transfer": section}))

    def settings(self):
        from dataward.settings import load_settings
        return load_settings(self.config)


def make_files(share: Path) -> dict[str, bytes]:
    """A small pupil folder: text, CSV, a 'photo' (incompressible), a docx-like zip,
    a nested folder and a non-ASCII name. Returns {relative path: bytes}."""
    import io
    import zipfile
    files: dict[str, bytes] = {}
    rnd = os.urandom
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", "<w:document>Transition notes</w:document>" * 200)
    content = {
        "Year 6/Jane Doe - transition.txt": b"Jane Doe, UPN A123456789012, moving to Oakfield.\n" * 40,
        "Year 6/class list.csv": b"surname,forename,dob\nDoe,Jane,2014-03-01\n" * 300,
        "Year 6/photos/IMG_0001.jpg": b"\xff\xd8\xff\xe0" + rnd(200_000),
        "Year 6/report.docx": buf.getvalue(),
        "Year 6/Zoë Brontë notes.txt": "Zoë's reading age: 9½\n".encode() * 10,
        "Year 6/empty.txt": b"",
    }
    for rel, data in content.items():
        p = share / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        files[rel] = data
    return files


@pytest.fixture
def school(dw_home: Path, tmp_path: Path, keyring: dict[str, str]) -> School:
    share = tmp_path / "share"
    out = tmp_path / "out"
    share.mkdir()
    out.mkdir()
    s = School(dw_home, dw_home / "dataward.yaml", share, out, keyring["home"])
    s.write_config()
    return s


@pytest.fixture
def pupil_files(school: School) -> dict[str, bytes]:
    """make_files() in the school's share: {path relative to the share: bytes}."""
    return make_files(school.share)
