"""Byte layouts of the objects in a repository (documented in docs/backup.md).

Every pack, index and snapshot object is::

    header (40 bytes) | body | mac (32 bytes)

    header: magic "DWBK" | version u8 = 1 | type u8 | reserved u16 = 0 | eph_pub (32 bytes)
    digest = SHA-256(header | body); the object is stored as ``<kind>/<hex digest>``
    mac    = HMAC-SHA256(mac_key, "dataward-backup object v1" | digest)

so a changed bit in header or body shows as a name mismatch even without any key, and
a forged object (or a changed MAC) fails the MAC check with the writer's keys.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from ..errors import IntegrityError
from .crypto import (
    MAC_LEN, NONCE_LEN, TAG_LEN, WriterKeys, new_object_key, nonce_for, open_object_key, seal,
    seal_into, unseal, unseal_into,
)

MAGIC = b"DWBK"
VERSION = 1
HEADER = struct.Struct(">4sBBH32s")  # 40 bytes
TYPE_PACK, TYPE_INDEX, TYPE_SNAPSHOT = 1, 2, 3
KIND_DIR = {TYPE_PACK: "packs", TYPE_INDEX: "index", TYPE_SNAPSHOT: "snapshots"}
BLOB_ENTRY = struct.Struct(">32sQII")  # chunk id, offset, stored length, raw length
MANIFEST_NONCE = b"\xff" * NONCE_LEN
STORED, ZSTD = 0, 1
ZERO_EPH = b"\x00" * 32


def seal_object(keys: WriterKeys, kind: int, body: bytes) -> tuple[str, bytes]:
    """(name, bytes) of an object whose header and body are ``body``."""
    digest = hashlib.sha256(body).digest()
    return f"{KIND_DIR[kind]}/{digest.hex()}", body + keys.mac(digest)


def _header(kind: int, eph_pub: bytes) -> bytes:
    return HEADER.pack(MAGIC, VERSION, kind, 0, eph_pub)


def check_object(keys: WriterKeys | None, name: str, data: bytes, kind: int) -> bytes:
    """Check an object's name hash, header and MAC; return its ephemeral public key."""
    what = f"object {name}"
    if len(data) < HEADER.size + MAC_LEN:
        raise IntegrityError(f"{what} is truncated")
    digest = hashlib.sha256(memoryview(data)[:-MAC_LEN]).digest()
    if digest.hex() != name.rsplit("/", 1)[-1]:
        raise IntegrityError(f"{what} does not match its checksum: it was altered or damaged")
    magic, version, typ, _, eph = HEADER.unpack_from(data)
    if magic != MAGIC or typ != kind:
        raise IntegrityError(f"{what} is not a dataward backup object of the expected kind")
    if version != VERSION:
        raise IntegrityError(f"{what} has format version {version}; this dataward reads {VERSION}")
    if keys is not None and not hmac.compare_digest(keys.mac(digest), data[-MAC_LEN:]):
        raise IntegrityError(f"{what} failed its MAC check: it was altered, or it belongs "
                             "to another repository")
    return eph


# ---- packs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BlobRef:
    """Where one chunk lives: pack, offset of its ciphertext, stored and raw length."""

    pack: str
    offset: int
    length: int
    raw_length: int


def chunk_body(cctx: zstandard.ZstdCompressor, data: bytes) -> tuple[int, bytes]:
    """A chunk's plaintext in a pack is a flag byte, then this body: its zstd frame, or
    the bytes as they are when compression saves less than 1/32 (``PackWriter.add``
    puts the flag in front)."""
    packed = cctx.compress(data)
    if len(packed) < len(data) - len(data) // 32:
        return ZSTD, packed
    return STORED, data


class PackWriter:
    """Accumulates encrypted chunks into one pack object, spooled to an unnamed temporary
    file (as restic does), so a pack being filled or uploaded costs no memory. A chunk is
    sealed into ``scratch`` (a buffer the run keeps, grown to the largest blob) and written
    from there: no new buffer per chunk, whose churn the allocator would keep as memory."""

    def __init__(self, keys: WriterKeys, spool_dir: Path | None = None,
                 scratch: bytearray | None = None) -> None:
        self.keys = keys
        self.eph_pub, self._key = new_object_key(keys.public_key)
        self._scratch = bytearray() if scratch is None else scratch
        self._file: BinaryIO = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115 - closed by close()
        self._hash = hashlib.sha256()
        self._size = 0
        self.entries: list[tuple[bytes, int, int, int]] = []
        self._write(_header(TYPE_PACK, self.eph_pub))

    def _write(self, data: bytes | memoryview) -> None:
        self._file.write(data)
        self._hash.update(data)
        self._size += len(data)

    @property
    def size(self) -> int:
        return self._size

    def add(self, chunk_id: bytes, flag: int, body: bytes, raw_length: int) -> None:
        """Add a chunk whose body ``chunk_body`` made: flag and body are laid out in the
        scratch buffer and sealed there in place, then written to the spool."""
        n = 1 + len(body) + TAG_LEN
        if len(self._scratch) < n:
            self._scratch.extend(bytes(n - len(self._scratch)))
        with memoryview(self._scratch)[:n] as blob:
            blob[0] = flag
            blob[1:n - TAG_LEN] = body
            seal_into(self._key, nonce_for(self.size), blob[:n - TAG_LEN], chunk_id, blob)
            self.entries.append((chunk_id, self.size, n, raw_length))
            self._write(blob)

    def __len__(self) -> int:
        return len(self.entries)

    def finish(self) -> tuple[str, BinaryIO, int]:
        """(name, the object's bytes as a file at offset 0, its length); the caller
        closes the file (which removes it). The writer is spent afterwards."""
        manifest = b"".join(BLOB_ENTRY.pack(*e) for e in self.entries)
        sealed = seal(self._key, MANIFEST_NONCE, manifest, b"manifest")
        self._write(sealed)
        self._write(struct.pack(">I", len(sealed)))
        digest = self._hash.digest()
        self._file.write(self.keys.mac(digest))
        self._file.flush()
        self._file.seek(0)
        return f"{KIND_DIR[TYPE_PACK]}/{digest.hex()}", self._file, self._size + MAC_LEN

    def discard(self) -> None:
        self._file.close()


def read_blob(keys: WriterKeys, pack: bytes, obj_key: bytes, chunk_id: bytes,
              ref: BlobRef) -> bytes | memoryview:
    """Decrypt, decompress and check one chunk of a pack whose object key is known."""
    return open_blob(keys, obj_key, chunk_id, ref,
                     memoryview(pack)[ref.offset:ref.offset + ref.length])


def open_blob(keys: WriterKeys, obj_key: bytes, chunk_id: bytes, ref: BlobRef,
              ct: bytes | memoryview, scratch: BlobScratch | None = None) -> bytes | memoryview:
    """Decrypt, decompress and check one chunk from its sealed bytes (a stored chunk comes
    back as a view of the decrypted buffer: no copy of it is made). With ``scratch``,
    ``ct`` is a view of its buffer and is decrypted in place: the chunk is good until the
    next one the scratch reads."""
    what = f"a chunk in pack {ref.pack[:12]}"
    if scratch is None:
        plain: bytes | memoryview = unseal(obj_key, nonce_for(ref.offset), ct, chunk_id, what)
        dctx = zstandard.ZstdDecompressor()
    else:  # decrypted in place, over the sealed bytes in the scratch buffer
        in_place = memoryview(ct)[:len(ct) - TAG_LEN]
        unseal_into(obj_key, nonce_for(ref.offset), ct, chunk_id, what, in_place)
        plain = in_place
        dctx = scratch.dctx
    body = memoryview(plain)[1:]
    data = dctx.decompress(body, max_output_size=ref.raw_length) if plain[0] == ZSTD else body
    if len(data) != ref.raw_length or keys.chunk_id(data) != chunk_id:
        raise IntegrityError(f"a chunk in pack {ref.pack[:12]} does not match its id")
    return data


class BlobScratch:
    """What one thread reuses for every chunk it reads: one buffer, where a chunk is read
    and decrypted in place, and a zstd context. A restore then allocates per chunk only
    what zstd returns, instead of three chunk-sized buffers and a context, whose churn
    costs CPU and which the allocator would keep as memory."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.dctx = zstandard.ZstdDecompressor()

    def ct(self, n: int) -> memoryview:
        if len(self._buf) < n:
            self._buf = bytearray(n)  # a new one: views of the old may still be alive
        return memoryview(self._buf)[:n]


class PackReader:
    """Reads a pack front to back from a stream: the header, then the chunks asked for
    (in offset order, each checked on its own), then the rest; ``finish`` checks the name
    hash and MAC over every byte. Memory: one chunk, not the pack."""

    PIECE = 1 << 20

    def __init__(self, keys: WriterKeys, name: str, stream: BinaryIO,
                 scratch: BlobScratch | None = None) -> None:
        self.keys, self.name, self.stream = keys, name, stream
        self.scratch = scratch or BlobScratch()
        self._hash = hashlib.sha256()
        self._pos = 0
        magic, version, typ, _, eph = HEADER.unpack(self._take(HEADER.size))
        if magic != MAGIC or typ != TYPE_PACK or version != VERSION:
            raise IntegrityError(f"object {name} is not a dataward pack of version {VERSION}")
        self.obj_key = open_object_key(keys, eph)

    def _take(self, n: int) -> memoryview:
        """The next ``n`` bytes, read into the scratch buffer (good until the next read)."""
        view = self.scratch.ct(n)
        got = 0
        while got < n:
            k = self.stream.readinto(view[got:])  # type: ignore[attr-defined]
            if not k:
                raise IntegrityError(f"object {self.name} is truncated")
            got += k
        self._hash.update(view)
        self._pos += n
        return view

    def blob(self, chunk_id: bytes, ref: BlobRef) -> bytes | memoryview:
        """The chunk, checked; a view of the scratch buffer when it was stored as is."""
        if ref.offset < self._pos:
            raise IntegrityError(f"the index places chunks of pack {self.name[6:18]} out of order")
        while self._pos < ref.offset:
            self._take(min(self.PIECE, ref.offset - self._pos))
        return open_blob(self.keys, self.obj_key, chunk_id, ref, self._take(ref.length),
                         self.scratch)

    def finish(self) -> None:
        """Read the rest; raise IntegrityError unless the name hash and MAC hold."""
        tail = b""
        while piece := self.stream.read(self.PIECE):
            data = tail + piece
            self._hash.update(data[:-MAC_LEN])
            tail = data[-MAC_LEN:]
        digest = self._hash.digest()
        if len(tail) != MAC_LEN or digest.hex() != self.name.rsplit("/", 1)[-1]:
            raise IntegrityError(f"object {self.name} does not match its checksum: it was "
                                 "altered or damaged")
        if not hmac.compare_digest(self.keys.mac(digest), tail):
            raise IntegrityError(f"object {self.name} failed its MAC check")


def open_pack(keys: WriterKeys, name: str, pack: bytes, *, checked: bool = False) -> bytes:
    """Check a pack (unless already ``checked``) and return its object key (needs the
    private key)."""
    if not checked:
        check_object(keys, name, pack, TYPE_PACK)
    return open_object_key(keys, HEADER.unpack_from(pack)[4])


def read_manifest(keys: WriterKeys, name: str, pack: bytes) -> tuple[bytes, list[tuple[bytes, int, int, int]]]:
    """(object key, entries) of a checked pack; needs the private key."""
    eph = check_object(keys, name, pack, TYPE_PACK)
    key = open_object_key(keys, eph)
    (mlen,) = struct.unpack_from(">I", pack, len(pack) - MAC_LEN - 4)
    start = len(pack) - MAC_LEN - 4 - mlen
    manifest = unseal(key, MANIFEST_NONCE, memoryview(pack)[start:start + mlen], b"manifest",
                      f"the manifest of pack {name[6:18]}")
    return key, [BLOB_ENTRY.unpack_from(manifest, i) for i in range(0, len(manifest), BLOB_ENTRY.size)]


# ---- metadata objects (index, snapshot summary): sealed with the metadata key ---------
def _seal_meta(keys: WriterKeys, header: bytes, doc: dict[str, Any]) -> bytes:
    import os
    nonce = os.urandom(NONCE_LEN)
    raw = zstandard.ZstdCompressor(level=3).compress(json.dumps(doc, separators=(",", ":")).encode())
    return nonce + seal(keys.meta_key, nonce, raw, header)


def _open_meta(keys: WriterKeys, header: bytes, blob: bytes, what: str) -> dict[str, Any]:
    raw = unseal(keys.meta_key, blob[:NONCE_LEN], blob[NONCE_LEN:], header, what)
    return json.loads(zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 31))


@dataclass
class IndexDoc:
    """Which pack holds which chunk. Readable by the school server (metadata key)."""

    packs: dict[str, list[tuple[str, int, int, int]]] = field(default_factory=dict)
    supersedes: list[str] = field(default_factory=list)


def encode_index(keys: WriterKeys, doc: IndexDoc) -> tuple[str, bytes]:
    header = _header(TYPE_INDEX, ZERO_EPH)
    body = header + _seal_meta(keys, header, {"v": 1, "packs": doc.packs,
                                              "supersedes": doc.supersedes})
    return seal_object(keys, TYPE_INDEX, body)


def decode_index(keys: WriterKeys, name: str, data: bytes) -> IndexDoc:
    check_object(keys, name, data, TYPE_INDEX)
    d = _open_meta(keys, data[:HEADER.size], data[HEADER.size:-MAC_LEN], f"index {name}")
    return IndexDoc({p: [tuple(e) for e in es] for p, es in d["packs"].items()},
                    list(d.get("supersedes", [])))


# ---- snapshots ------------------------------------------------------------------------
def encode_snapshot(keys: WriterKeys, summary: dict[str, Any], tree: list[dict[str, Any]],
                    level: int = 3) -> tuple[str, bytes]:
    """A snapshot: the summary (metadata key: times, counts, chunk ids) and the tree
    (file names, modes, chunk lists: sealed to the public key, recovery only)."""
    eph_pub, key = new_object_key(keys.public_key)
    header = _header(TYPE_SNAPSHOT, eph_pub)
    meta = _seal_meta(keys, header, summary)
    raw = zstandard.ZstdCompressor(level=level).compress(
        json.dumps({"v": 1, "tree": tree}, separators=(",", ":")).encode())
    sealed_tree = seal(key, nonce_for(0), raw, header)
    body = header + struct.pack(">I", len(meta)) + meta + sealed_tree
    return seal_object(keys, TYPE_SNAPSHOT, body)


def decode_snapshot_summary(keys: WriterKeys, name: str, data: bytes) -> dict[str, Any]:
    check_object(keys, name, data, TYPE_SNAPSHOT)
    (mlen,) = struct.unpack_from(">I", data, HEADER.size)
    start = HEADER.size + 4
    return _open_meta(keys, data[:HEADER.size], data[start:start + mlen], f"snapshot {name}")


def decode_snapshot_tree(keys: WriterKeys, name: str, data: bytes) -> list[dict[str, Any]]:
    eph = check_object(keys, name, data, TYPE_SNAPSHOT)
    (mlen,) = struct.unpack_from(">I", data, HEADER.size)
    start = HEADER.size + 4 + mlen
    key = open_object_key(keys, eph)
    raw = unseal(key, nonce_for(0), memoryview(data)[start:-MAC_LEN], data[:HEADER.size],
                 f"the file list of snapshot {name}")
    return json.loads(zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 32))["tree"]
