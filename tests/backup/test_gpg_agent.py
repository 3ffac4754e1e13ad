"""`backup restore` with a passphrase-protected recovery key leaves nothing unlocked
(issue 16): afterwards, a decrypt in the same keyring without the passphrase fails,
against the real gpg-agent of that keyring."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

PASSPHRASE = "recovery-key-passphrase-for-tests"


def _gpg(home: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("check", False)
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", *args],
                          capture_output=True, **kw)


@pytest.fixture
def locked_key():
    """A recovery key protected by a passphrase, in its own keyring (short path)."""
    home = Path(tempfile.mkdtemp(prefix="dwlk-"))
    home.chmod(0o700)
    uid = "Locked Recovery <head@oakfield.sch.uk>"
    _gpg(home, "--pinentry-mode", "loopback", "--passphrase", PASSPHRASE, "--quick-gen-key",
         uid, "ed25519", "sign,cert", "2y", check=True)
    out = _gpg(home, "--with-colons", "--list-keys", uid, check=True, text=True).stdout
    fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
    _gpg(home, "--pinentry-mode", "loopback", "--passphrase", PASSPHRASE, "--quick-add-key",
         fpr, "cv25519", "encr", "2y", check=True)
    # Every passphrase the agent hears is cached for a day: the leak cannot hide.
    (home / "gpg-agent.conf").write_text("allow-loopback-pinentry\ndefault-cache-ttl 86400\n"
                                         "max-cache-ttl 86400\n")
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)
    yield home, fpr
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)
    shutil.rmtree(home, ignore_errors=True)


def _decrypts_without_passphrase(home: Path, fpr: str, tmp: Path) -> bool:
    msg = tmp / "probe.gpg"
    _gpg(home, "--yes", "--trust-model", "always", "--recipient", fpr, "--output", str(msg),
         "--encrypt", input=b"probe", check=True)
    r = _gpg(home, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--decrypt", str(msg),
             input=b"")
    return r.returncode == 0 and r.stdout == b"probe"


def test_restore_does_not_leave_the_recovery_key_unlocked(dw_home, locked_key, tmp_path):
    home, fpr = locked_key
    assert not _decrypts_without_passphrase(home, fpr, tmp_path)   # locked to begin with
    src = tmp_path / "share"
    src.mkdir()
    (src / "minutes.txt").write_text("governors' minutes\n" * 100)
    target = tmp_path / "repo"
    (dw_home / "dataward.yaml").write_text(yaml.safe_dump(
        {"backup": {"recovery_keys": [fpr], "gnupghome": str(home)}}))
    env = {**os.environ, "DATAWARD_HOME": str(dw_home), "RECOVERY_PASS": PASSPHRASE}
    dw = [sys.executable, "-c", "from dataward.cli.main import main; main()"]
    run = subprocess.run(dw + ["backup", "run", "--target", str(target), str(src)], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr

    out = tmp_path / "restored"
    r = subprocess.run(dw + ["backup", "restore", "latest", "--to", str(out), "--target",
                             str(target), "--gnupghome", str(home),
                             "--passphrase-env", "RECOVERY_PASS"],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (out / src.relative_to("/") / "minutes.txt").read_text() == "governors' minutes\n" * 100

    # The same user's next process, with the same keyring and no passphrase: refused.
    assert not _decrypts_without_passphrase(home, fpr, tmp_path)
    # ...and the keyring itself is as it was: the passphrase still opens it.
    probe = tmp_path / "probe.gpg"
    ok = _gpg(home, "--pinentry-mode", "loopback", "--passphrase", PASSPHRASE, "--decrypt",
              str(probe))
    assert ok.returncode == 0 and ok.stdout == b"probe"
