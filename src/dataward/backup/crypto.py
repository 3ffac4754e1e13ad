"""The repository's keys and the primitives built on them.

A repository has four secrets (see docs/backup.md, "Keys"):

* ``private_key`` / ``public_key``: an X25519 pair. Every pack and snapshot tree is
  encrypted under a fresh key agreed between a one-off (ephemeral) key pair and
  ``public_key``; only ``private_key`` opens it again.
* ``id_key``: the HMAC-SHA256 key behind chunk ids (and the chunker's gear seed), so ids
  and cut points reveal nothing about content to anyone without it.
* ``auth_key``: the source of the object MAC key and the metadata key (indexes,
  snapshot summaries), so the school server can deduplicate, list and prune without
  being able to read any file content.

The school server holds ``WriterKeys`` (everything but ``private_key``): that is
write-only mode. ``MasterKeys`` adds ``private_key`` and lives only inside the OpenPGP
messages in ``keys/`` (wrapped to the recovery keys), unless write-only mode is off.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import IntegrityError

KEY_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
MAC_LEN = 32


def _hkdf(ikm: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=salt, info=info).derive(ikm)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True)
class WriterKeys:
    """What the school server needs to add backups: no way to read existing ones."""

    repo_id: str
    public_key: bytes
    id_key: bytes
    auth_key: bytes

    @cached_property
    def mac_key(self) -> bytes:
        return _hkdf(self.auth_key, b"dataward-backup mac v1")

    @cached_property
    def meta_key(self) -> bytes:
        return _hkdf(self.auth_key, b"dataward-backup meta v1")

    @property
    def chunker_seed(self) -> int:
        """Keyed gear table for FastCDC, so cut points do not fingerprint content."""
        return int.from_bytes(_hkdf(self.id_key, b"dataward-backup chunker v1")[:4], "big") or 1

    def chunk_id(self, data: bytes | memoryview) -> bytes:
        # hmac.new().update() releases the GIL on large buffers; hmac.digest() does not.
        h = hmac.new(self.id_key, digestmod="sha256")
        h.update(data)
        return h.digest()

    def mac(self, digest: bytes) -> bytes:
        """The MAC of an object: HMAC-SHA256 over its SHA-256 (its name)."""
        return hmac.digest(self.mac_key, b"dataward-backup object v1" + digest, "sha256")

    def to_json(self) -> dict[str, str]:
        return {"repo_id": self.repo_id, "public_key": b64(self.public_key),
                "id_key": b64(self.id_key), "auth_key": b64(self.auth_key)}

    def writer(self) -> WriterKeys:
        return WriterKeys(self.repo_id, self.public_key, self.id_key, self.auth_key)


@dataclass(frozen=True)
class MasterKeys(WriterKeys):
    """All of a repository's keys: can read everything."""

    private_key: bytes = b""

    @classmethod
    def generate(cls) -> MasterKeys:
        priv = X25519PrivateKey.generate()
        pub = priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(repo_id=os.urandom(16).hex(), public_key=pub, id_key=os.urandom(KEY_LEN),
                   auth_key=os.urandom(KEY_LEN), private_key=priv.private_bytes_raw())

    def to_json(self) -> dict[str, str]:
        return {**super().to_json(), "private_key": b64(self.private_key)}


def writer_from_json(d: dict[str, str]) -> WriterKeys:
    repo_id, public_key = d["repo_id"], unb64(d["public_key"])
    id_key, auth_key = unb64(d["id_key"]), unb64(d["auth_key"])
    if d.get("private_key"):
        return MasterKeys(repo_id=repo_id, public_key=public_key, id_key=id_key,
                          auth_key=auth_key, private_key=unb64(d["private_key"]))
    return WriterKeys(repo_id=repo_id, public_key=public_key, id_key=id_key, auth_key=auth_key)


def new_object_key(public_key: bytes) -> tuple[bytes, bytes]:
    """(ephemeral public key, object key) for one new object sealed to ``public_key``."""
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = eph.exchange(X25519PublicKey.from_public_bytes(public_key))
    return eph_pub, _hkdf(shared, b"dataward-backup object v1", salt=eph_pub + public_key)


def open_object_key(keys: WriterKeys, eph_pub: bytes) -> bytes:
    """The object key of an object, given its ephemeral public key (needs the private key)."""
    if not isinstance(keys, MasterKeys) or not keys.private_key:
        from ..errors import WrongKeyError
        raise WrongKeyError(
            "this needs the repository's private key, which the school server does not hold "
            "(write-only mode)", hint="pass --gnupghome with a recovery key's secret key")
    priv = X25519PrivateKey.from_private_bytes(keys.private_key)
    shared = priv.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    return _hkdf(shared, b"dataward-backup object v1", salt=eph_pub + keys.public_key)


def nonce_for(counter: int) -> bytes:
    return counter.to_bytes(NONCE_LEN, "big")


def seal(key: bytes, nonce: bytes, plaintext: bytes | memoryview, aad: bytes) -> bytes:
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, nonce: bytes, ciphertext: bytes | memoryview, aad: bytes, what: str) -> bytes:
    with _authentic(what):
        return AESGCM(key).decrypt(nonce, ciphertext, aad)


def seal_into(key: bytes, nonce: bytes, plaintext: memoryview, aad: bytes, out: memoryview) -> None:
    """``seal`` into ``out`` (the plaintext's length and the tag); ``plaintext`` may be the
    start of ``out``: the chunk is then encrypted in place."""
    AESGCM(key).encrypt_into(nonce, plaintext, aad, out)


def unseal_into(key: bytes, nonce: bytes, ciphertext: bytes | memoryview, aad: bytes, what: str,
                out: memoryview) -> None:
    """``unseal`` into ``out`` (exactly the plaintext's length; it may be the start of
    ``ciphertext``: decrypted in place)."""
    with _authentic(what):
        AESGCM(key).decrypt_into(nonce, ciphertext, aad, out)


@contextmanager
def _authentic(what: str) -> Iterator[None]:
    """A failed AES-GCM tag as dataward's integrity error, naming ``what`` was read."""
    try:
        yield
    except InvalidTag:
        raise IntegrityError(f"{what} failed authentication: it was altered or damaged") from None


def sha256_hex(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()
