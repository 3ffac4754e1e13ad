"""The OpenPGP layer: find the recipient's key in the school's keyring, stream the inner
archive through ``gpg --encrypt`` (AES-256, no compression: the inner archive is
compressed already), and decrypt a package to check it.

The key must be named exactly: a full fingerprint, or an e-mail address matching one
key. It must be valid (not expired, revoked or disabled) and able to encrypt. Keys
imported by the school are often not certified, so encryption uses ``--trust-model
always`` for *that one resolved key*; dataward prints its fingerprint for the person
to check against what the recipient gave them.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from ..errors import (
    ConfigError, DatawardError, IntegrityError, NotFoundError, RefusedError, UsageError,
    WrongKeyError,
)

T = TypeVar("T")
_FPR = re.compile(r"^(?:[0-9A-F]{40}|[0-9A-F]{64})$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
ENCRYPT_ARGS = ["--cipher-algo", "AES256", "--compress-algo", "none", "--no-auto-key-retrieve"]

# python-gnupg logs data at DEBUG; dataward's data must not reach any log.
logging.getLogger("gnupg").setLevel(logging.WARNING)


@dataclass(frozen=True)
class RecipientKey:
    fingerprint: str
    uid: str          # the key's first user id, shown to the person who packages
    expires: str      # ISO date, or "" for never


def gpg_for(gnupghome: Path | None) -> Any:
    import gnupg
    try:
        return gnupg.GPG(gnupghome=str(gnupghome) if gnupghome else None)
    except (OSError, ValueError, RuntimeError):
        raise ConfigError("gpg (GnuPG) is not installed or cannot start",
                          hint="install it: apt-get install gnupg") from None


def _date(epoch: str) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).date().isoformat() if epoch else ""


def resolve_recipient(gpg: Any, key: str) -> RecipientKey:
    """The one usable encryption key named by ``key`` (fingerprint or e-mail)."""
    spec = key.strip()
    compact = spec.replace(" ", "").upper().removeprefix("0X")
    if _FPR.match(compact):
        query = compact
    elif _EMAIL.match(spec):
        query = f"<{spec}>"  # gpg's exact e-mail match
    else:
        raise UsageError("--recipient must be a full key fingerprint (40 hex digits) "
                         "or an e-mail address")
    keys = [k for k in gpg.list_keys(keys=[query])
            if query != compact or k.get("fingerprint", "").upper() == compact
            or any(s[2] == compact for s in k.get("subkeys", []) if len(s) > 2)]
    if not keys:
        raise NotFoundError(
            "no key for that recipient in the school's keyring",
            hint="import the recipient's public key first (gpg --import KEYFILE), "
                 "or set transfer.gnupg_home to the keyring dataward should use")
    if len(keys) > 1:
        raise UsageError(f"that e-mail address matches {len(keys)} keys in the keyring",
                         hint="give the full fingerprint of the right one")
    k = keys[0]
    validity = k.get("trust", "")
    expires = _date(k.get("expires", ""))
    if validity == "e" or (expires and k.get("expires") and
                           int(k["expires"]) < datetime.now(UTC).timestamp()):
        raise RefusedError(f"the recipient's key expired on {expires}",
                           hint="ask the recipient for their current public key")
    if validity == "r":
        raise RefusedError("the recipient's key has been revoked",
                           hint="ask the recipient for their current public key")
    if validity == "d" or "D" in k.get("cap", ""):
        raise RefusedError("the recipient's key is disabled in the keyring")
    if "E" not in k.get("cap", ""):
        raise RefusedError("the recipient's key has no usable encryption subkey "
                           "(expired, revoked or missing)",
                           hint="ask the recipient for their current public key")
    uids = k.get("uids") or [""]
    return RecipientKey(k["fingerprint"], uids[0], expires)


def write_pgp(part: Path, gpg: Any, recipient: RecipientKey, *, hidden: bool,
              build: Callable[[IO[bytes]], T]) -> T:
    """Run ``build`` on a pipe whose other end gpg encrypts into ``part``."""
    r_fd, w_fd = os.pipe()
    reader = os.fdopen(r_fd, "rb")
    writer = os.fdopen(w_fd, "wb")
    result: dict[str, Any] = {}

    def run_gpg() -> None:
        try:
            kw = ({"recipients": None, "hidden_recipients": [recipient.fingerprint]}
                  if hidden else {"recipients": [recipient.fingerprint]})
            result["crypt"] = gpg.encrypt_file(
                reader, armor=False, output=str(part), always_trust=True,
                extra_args=ENCRYPT_ARGS, **kw)
        except BaseException as exc:  # noqa: BLE001 - reported in the main thread
            result["error"] = exc
        finally:
            reader.close()

    t = threading.Thread(target=run_gpg, name="dataward-gpg", daemon=True)
    t.start()
    try:
        built = build(writer)
        writer.close()
    except BrokenPipeError:
        built = None
    finally:
        if not writer.closed:
            try:
                writer.close()
            except BrokenPipeError:
                pass
        t.join()
    crypt = result.get("crypt")
    if "error" in result or crypt is None or not crypt.ok or built is None:
        status = getattr(crypt, "status", "") or type(result.get("error")).__name__
        raise DatawardError(f"gpg could not encrypt the package ({status})",
                            hint="run `gpg --list-keys` to check the keyring")
    return built


def decrypt_pgp(path: Path, gpg: Any) -> bytes:
    """Decrypt a package in memory (never to disk); raise on a wrong key or tampering."""
    with open(path, "rb") as fh:
        crypt = gpg.decrypt_file(fh, extra_args=["--no-auto-key-retrieve"])
    stderr = getattr(crypt, "stderr", "") or ""
    if "BADMDC" in stderr or "DECRYPTION_FAILED" in stderr and "NO_SECKEY" not in stderr:
        raise IntegrityError("the package failed its OpenPGP integrity check: it was "
                             "altered or damaged after it was made")
    if not crypt.ok:
        if "NO_SECKEY" in stderr:
            raise WrongKeyError("no secret key in this keyring opens the package",
                                hint="only the recipient (the holder of the key it was "
                                     "encrypted to) can open it")
        if "NODATA" in stderr:
            raise IntegrityError("the file is not an OpenPGP message, or it is damaged")
        raise IntegrityError(f"gpg could not decrypt the package ({crypt.status})")
    return bytes(crypt.data)
