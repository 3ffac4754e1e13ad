"""No plaintext copy touches the disk: after create (and after a Ctrl-C in the middle),
no byte sequence of a planted file, and not its name, is found in any file under the
temp dirs, the output folder, the state folder or the keyring."""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import pytest

from dataward.transfer import PasswordMethod, PgpMethod, create_package


@pytest.fixture
def planted(school, monkeypatch, tmp_path):
    """A file with a unique name and contents in the share, and a private temp dir that
    every temp-file API (tempfile, $TMPDIR, gpg) points at for the test."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    marker = "PLANTED" + secrets.token_hex(12)
    # Text (deflated: must not survive even compressed-then-encrypted) and random bytes
    # (stored: must not appear as they are).
    text = (f"{marker} pupil record line\n" * 3000).encode()
    blob = os.urandom(300_000)
    folder = school.share / f"{marker}-folder"
    folder.mkdir()
    (folder / f"{marker}.txt").write_bytes(text)
    (folder / f"{marker}.jpg").write_bytes(blob)
    return {"marker": marker.encode(), "blob": blob, "folder": folder, "tmp": tmp}


def _windows(blob: bytes, size: int = 32, step: int = 4096) -> list[bytes]:
    return [blob[i:i + size] for i in range(0, len(blob) - size, step)]


def _leaks(roots: list[Path], planted: dict) -> list[str]:
    needles = [planted["marker"], planted["marker"].decode().encode("utf-16-le"),
               *_windows(planted["blob"])]
    found = []
    for root in roots:
        for p in Path(root).rglob("*"):
            if p.is_file() and not p.is_symlink() and p.stat().st_size:
                data = p.read_bytes()
                found += [str(p) for n in needles if n in data][:1]
    return found


def _roots(school, planted) -> list[Path]:
    return [planted["tmp"], school.out, school.home, Path(school.gnupg_home)]


@pytest.mark.parametrize("method, scan", [("password", False), ("openpgp", False),
                                          ("password", True)])
def test_no_plaintext_byte_or_name_lands_anywhere_after_create(school, planted, keyring,
                                                                method, scan):
    school.write_config(scan_before_packaging=scan)
    m = PasswordMethod() if method == "password" else PgpMethod(keyring["la"])
    res = create_package(school.settings(), [planted["folder"]], recipient="LA", method=m,
                         out_dir=school.out)
    assert res.file_count == 2
    assert res.scan.status == ("scanned" if scan else "off")
    assert _leaks(_roots(school, planted), planted) == []
    assert list(planted["tmp"].iterdir()) == []            # no temp file left either
    assert [p.name for p in school.out.iterdir()] == [res.path.name]


class _Interrupt:
    """A progress callback that presses Ctrl-C half-way through packaging."""

    def __init__(self) -> None:
        self.fired = False

    def __call__(self, p) -> None:
        if p.stage == "packaging" and p.total and p.done > p.total // 2 and not self.fired:
            self.fired = True
            raise KeyboardInterrupt


@pytest.mark.parametrize("method", ["password", "openpgp"])
def test_ctrl_c_half_way_leaves_nothing_behind(school, planted, keyring, method):
    m = PasswordMethod() if method == "password" else PgpMethod(keyring["la"])
    stop = _Interrupt()
    with pytest.raises(KeyboardInterrupt):
        create_package(school.settings(), [planted["folder"]], recipient="LA", method=m,
                       out_dir=school.out, progress=stop)
    assert stop.fired
    assert list(school.out.iterdir()) == []                  # not even the .part file
    assert list(planted["tmp"].iterdir()) == []
    assert _leaks(_roots(school, planted), planted) == []
    from dataward.ledger import Ledger
    with Ledger(school.settings().ledger_url) as ledger:
        assert ledger.audit_records(action_prefix="package.") == []
