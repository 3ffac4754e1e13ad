"""Detached OpenPGP signatures of certificates (python-gnupg and the gpg binary).

A signature ``FILE.asc`` is ASCII-armoured and detached, so plain
``gpg --verify FILE.asc FILE`` checks it on any machine holding the school's public key.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError, IntegrityError
from ..settings import Settings


def _gpg(settings: Settings) -> Any:
    import gnupg

    home = settings.assets.gnupg_home
    try:
        return gnupg.GPG(gnupghome=str(home) if home else None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot start gpg (assets.gnupg_home={home}): {exc}",
                          hint="install gnupg and check the folder exists") from None


def _norm(fpr: str) -> str:
    return fpr.replace(" ", "").upper()


class Signer:
    """The school's signing key, found and checked before anything is recorded."""

    def __init__(self, settings: Settings) -> None:
        fpr = settings.assets.signing_key
        if not fpr:
            raise ConfigError("no signing key for disposal certificates",
                              hint="set assets.signing_key to the fingerprint of the "
                                   "school's OpenPGP key (gpg --list-secret-keys)")
        self.fingerprint = _norm(fpr)
        self.gpg = _gpg(settings)
        keys = self.gpg.list_keys(secret=True)
        # A fingerprint, or a long key id (its last 16 hex digits), of a primary key.
        match = [k for k in keys if len(self.fingerprint) >= 16
                 and _norm(k["fingerprint"]).endswith(self.fingerprint)]
        if not match:
            raise ConfigError(f"the signing key {self.fingerprint} is not in the gpg "
                              "keyring with its secret part",
                              hint="check assets.signing_key and assets.gnupg_home")
        if match[0].get("trust") in ("r", "e"):
            raise ConfigError(f"the signing key {self.fingerprint} is revoked or expired")
        self.fingerprint = _norm(match[0]["fingerprint"])

    def sign(self, path: Path) -> Path:
        """Write ``path.asc``, a detached armoured signature of ``path``."""
        sig = path.with_name(path.name + ".asc")
        with path.open("rb") as fh:
            res = self.gpg.sign_file(fh, keyid=self.fingerprint, detach=True, binary=False,
                                     output=str(sig))
        if res.status != "signature created" or not sig.exists():
            raise ConfigError(f"gpg could not sign with key {self.fingerprint} "
                              f"({res.status or 'no status'})",
                              hint="a key with a passphrase needs gpg-agent to hold it")
        return sig


def verify_detached(settings: Settings, path: Path, sig: Path) -> str:
    """Check ``sig`` over ``path``; return the signer's primary-key fingerprint."""
    if not sig.exists():
        raise IntegrityError(f"no signature {sig.name} beside {path.name}",
                             hint="the certificate cannot be trusted without it")
    gpg = _gpg(settings)
    with sig.open("rb") as fh:
        res = gpg.verify_file(fh, data_filename=str(path))
    if not res.valid:
        why = res.status or "unknown"
        if res.status == "no public key":
            raise IntegrityError(f"{path.name}: signed by a key that is not in the keyring",
                                 hint="import the school's public key")
        raise IntegrityError(f"{path.name}: the signature does not match the file ({why}); "
                             "it was altered after signing")
    return _norm(res.pubkey_fingerprint or res.fingerprint or "")
