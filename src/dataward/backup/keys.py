"""Keeping a repository's keys: OpenPGP-wrapped in the repository, writer keys at home.

* ``keys/<sha256>`` in the repository: one OpenPGP message (ASCII armour) encrypted to
  every recovery key, holding all the repository's keys as JSON. Any one recovery key's
  secret half opens it.
* ``$DATAWARD_HOME/keys/backup-<repo_id>.json`` (0600) on the school server: the writer
  keys only (write-only mode), or all keys when ``backup.write_only`` is false.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ConfigError, WrongKeyError
from ..home import write_secret
from .crypto import MasterKeys, WriterKeys, sha256_hex, writer_from_json

FPR = re.compile(r"^[0-9A-Fa-f]{40}$|^[0-9A-Fa-f]{64}$")


def _gpg(gnupghome: Path | None):
    import gnupg
    try:
        return gnupg.GPG(gnupghome=str(gnupghome) if gnupghome else None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot start gpg ({exc}); is GnuPG installed?") from None


def check_recipients(recipients: list[str], gnupghome: Path | None) -> list[str]:
    """Full fingerprints of recovery keys that are in the keyring and can encrypt."""
    if not recipients:
        raise ConfigError(
            "no recovery keys: backups must be wrapped to at least one OpenPGP recovery key",
            hint="set backup.recovery_keys to the fingerprint of the head's or trust's key, "
                 "or pass --recovery-key FINGERPRINT")
    gpg = _gpg(gnupghome)
    known = {k["fingerprint"].upper(): k for k in gpg.list_keys()}
    out = []
    for r in recipients:
        fpr = r.replace(" ", "").upper()
        if not FPR.match(fpr):
            raise ConfigError(f"recovery key {r!r} is not a full fingerprint (40 hex digits)")
        key = known.get(fpr)
        if key is None:
            raise ConfigError(f"recovery key {fpr} is not in the keyring",
                              hint="import the public key first: gpg --import recovery.asc")
        caps = key.get("cap", "")
        if "E" not in caps and "e" not in caps:
            raise ConfigError(f"recovery key {fpr} cannot encrypt (no encryption subkey)")
        out.append(fpr)
    return out


def wrap_keys(keys: MasterKeys, recipients: list[str], gnupghome: Path | None) -> tuple[str, bytes]:
    """The ``keys/`` object: (name, armoured OpenPGP message to every recipient)."""
    gpg = _gpg(gnupghome)
    payload = json.dumps({"dataward_backup_keys": 1, **keys.to_json()})
    result = gpg.encrypt(payload, recipients, always_trust=True, armor=True)
    if not result.ok:
        raise ConfigError(f"gpg could not encrypt to the recovery keys: {result.status}")
    data = bytes(result.data)
    return f"keys/{sha256_hex(data)}", data


# What a keyring is made of; the agent's own config and sockets stay behind.
_KEYRING_FILES = ("pubring.kbx", "pubring.gpg", "secring.gpg", "trustdb.gpg", "gpg.conf")


@contextmanager
def private_keyring(gnupghome: Path | None) -> Iterator[Path]:
    """A short-lived copy of the keyring with its own gpg-agent, stopped and deleted on
    the way out. gpg-agent caches a passphrase it was given (ten minutes by default), so
    decrypting with the recovery key in the person's own keyring would leave that key
    unlocked for every process of the same user; the copy's agent takes the cache with
    it. (A smartcard key is used through the copy's own scdaemon.)"""
    src = gnupghome or Path(os.environ.get("GNUPGHOME") or Path.home() / ".gnupg")
    # 0700, in memory where the system has /dev/shm (the copy holds secret keys), and a
    # short path: the agent's socket lives in it.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    tmp = Path(tempfile.mkdtemp(prefix="dwgpg-", dir=shm))
    try:
        for name in _KEYRING_FILES:
            if (src / name).is_file():
                shutil.copy2(src / name, tmp / name)
        if (src / "private-keys-v1.d").is_dir():
            shutil.copytree(src / "private-keys-v1.d", tmp / "private-keys-v1.d",
                            ignore=shutil.ignore_patterns("S.*", "*.lock"))
        yield tmp
    finally:
        subprocess.run(["gpgconf", "--homedir", str(tmp), "--kill", "gpg-agent"],
                       capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def unwrap_keys(data: bytes, gnupghome: Path | None, passphrase: str | None = None) -> MasterKeys:
    """Open a ``keys/`` object with a recovery key's secret half (in a private, short-lived
    copy of the keyring, so the key is not left unlocked in the person's gpg-agent)."""
    with private_keyring(gnupghome) as home:
        result = _gpg(home).decrypt(data, passphrase=passphrase)
    if not result.ok:
        where = str(gnupghome) if gnupghome else "the default keyring"
        raise WrongKeyError(
            f"no recovery key in {where} opens this repository's keys ({result.status})",
            hint="use the keyring holding a recovery key's secret half (--gnupghome), "
                 "and its passphrase if it has one")
    try:
        keys = writer_from_json(json.loads(bytes(result.data)))
    except (ValueError, KeyError):
        raise WrongKeyError("the repository's key object does not hold dataward keys") from None
    if not isinstance(keys, MasterKeys):
        raise WrongKeyError("the repository's key object lacks the private key")
    return keys


def local_key_path(keys_dir: Path, repo_id: str) -> Path:
    return keys_dir / f"backup-{repo_id}.json"


def save_local_keys(keys_dir: Path, keys: WriterKeys, *, write_only: bool) -> Path:
    path = local_key_path(keys_dir, keys.repo_id)
    kept = keys.writer() if write_only else keys
    if path.exists():
        path.unlink()
    write_secret(path, json.dumps(kept.to_json()).encode())
    return path


def load_local_keys(keys_dir: Path, repo_id: str) -> WriterKeys | None:
    path = local_key_path(keys_dir, repo_id)
    if not path.exists():
        return None
    try:
        return writer_from_json(json.loads(path.read_text()))
    except (ValueError, KeyError):
        raise WrongKeyError(f"the backup key file {path} is damaged") from None
