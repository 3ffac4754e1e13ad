"""The backup's own chunk reading, pack sealing and pack copying: the same bytes and cuts
as the plain ways, with one buffer reused instead of new ones per file or chunk."""
from __future__ import annotations

import io
import os
import random
import tempfile

import pytest
import zstandard
from pyfastcdc import FastCDC

from dataward.backup.crypto import MasterKeys
from dataward.backup.format import BlobRef, BlobScratch, PackReader, PackWriter, chunk_body
from dataward.backup.run import _Reader
from dataward.connectors.objectstore import LocalStore
from dataward.errors import IntegrityError

MIN, AVG, MAX = 16 * 1024, 64 * 1024, 256 * 1024


class Trickle(io.RawIOBase):
    """A file that hands out at most ``step`` bytes per read, as a network share may."""

    def __init__(self, data: bytes, step: int) -> None:
        self.src, self.step = io.BytesIO(data), step

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        piece = self.src.read(min(len(b), self.step))
        b[:len(piece)] = piece
        return len(piece)


@pytest.mark.parametrize("step", [None, 1000, 77_777])
def test_reused_buffer_cuts_exactly_where_the_stream_chunker_does(step):
    """Chunk ids are what deduplicate against existing repositories: one cut moved would
    upload a whole file again. Sizes around the buffer's edges, one file after another
    through the same reader (the buffer is reused), with short reads."""
    cdc = FastCDC(AVG, min_size=MIN, max_size=MAX, seed=424242)
    reader = _Reader(cdc)
    rng = random.Random(7)
    sizes = [0, 1, MIN - 1, MIN, MAX - 1, MAX, MAX + 1, 2 * MAX - 1, 2 * MAX, 2 * MAX + 1,
             3 * MAX + 12345, 1_234_567, 5_000_001]
    for n in sizes:
        data = rng.randbytes(n // 3) + bytes(n // 3) + rng.randbytes(n - 2 * (n // 3))
        expected = [bytes(c.data) for c in cdc.cut_stream(io.BytesIO(data))]
        got: list[bytes] = []
        fh = io.BytesIO(data) if step is None else Trickle(data, step)
        refs, size = reader.chunks(fh, lambda view, got=got: got.append(bytes(view)) or len(got))
        assert got == expected, f"cuts differ for a file of {n} bytes"
        assert size == n and refs == list(range(1, len(got) + 1))
        assert b"".join(got) == data


def _keys():
    return MasterKeys.generate()  # the private key too: reading a pack opens its key


def test_pack_sealed_in_one_scratch_buffer_reads_back_and_detects_a_flipped_bit(tmp_path):
    keys = _keys()
    cctx = zstandard.ZstdCompressor(level=3)
    rng = random.Random(3)
    chunks = [rng.randbytes(200_000), b"x" * 300_000, rng.randbytes(10), b"ab" * 90_000,
              rng.randbytes(600_000)]  # growing, shrinking, then growing again
    scratch = bytearray()
    writer = PackWriter(keys, tmp_path, scratch)
    ids = []
    for data in chunks:
        cid = keys.chunk_id(data)
        ids.append(cid)
        writer.add(cid, *chunk_body(cctx, data), len(data))
    assert len(scratch) >= 600_000 + 17  # the buffer grew to the largest blob and was kept
    name, fh, size = writer.finish()
    pack = fh.read(size)
    fh.close()
    refs = [BlobRef(name, off, ln, raw) for _, off, ln, raw in writer.entries]

    blob_scratch = BlobScratch()
    reader = PackReader(keys, name, io.BytesIO(pack), blob_scratch)
    for cid, ref, data in zip(ids, refs, chunks):
        assert bytes(reader.blob(cid, ref)) == data
    reader.finish()

    damaged = bytearray(pack)
    damaged[refs[1].offset + 5] ^= 1  # inside the second chunk's sealed bytes
    reader = PackReader(keys, name, io.BytesIO(bytes(damaged)), blob_scratch)
    assert bytes(reader.blob(ids[0], refs[0])) == chunks[0]
    with pytest.raises(IntegrityError):
        reader.blob(ids[1], refs[1])


def test_folder_store_copies_a_spooled_pack_whole_with_or_without_sendfile(tmp_path):
    store = LocalStore(tmp_path / "repo")
    data = os.urandom(3 * 1024 * 1024 + 17)
    with tempfile.TemporaryFile(dir=tmp_path) as spool:
        spool.write(b"header" + data)
        spool.flush()
        spool.seek(6)  # put_file copies from the current position
        store.put_file("packs/aa", spool, len(data))
    assert store.get("packs/aa") == data
    # A stream with no file behind it (no fileno): copied by blocks instead.
    store.put_file("packs/bb", io.BytesIO(data), len(data))
    assert store.get("packs/bb") == data
    with tempfile.TemporaryFile(dir=tmp_path) as spool:
        spool.write(data[:1000])
        spool.flush()
        spool.seek(0)
        with pytest.raises(OSError, match="ended early"):
            store.put_file("packs/cc", spool, len(data))
    assert not store.exists("packs/cc")
    assert not [p for p in (tmp_path / "repo" / "packs").iterdir() if p.name.startswith(".")]
