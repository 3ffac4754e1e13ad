"""An archive a cap stopped is `skipped`, never `ok` (issue 16): a 12-deep onion of zips,
and a zip whose member inflates past the size its headers declare."""
from __future__ import annotations

import io
import struct
import zipfile

from .conftest import LINE, run


def _zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def test_twelve_deep_onion_is_skipped_at_every_level(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    data, name = (LINE + "\n").encode(), "notes.txt"
    for level in range(12):
        data, name = _zip(name, data), f"level{level}.zip"
    (share / "onion.zip").write_bytes(data)

    s = run(settings, share)

    onion = s.items["onion.zip"]
    assert onion.status == "skipped"
    assert onion.error == "a cap stopped reading inside it: nested deeper than 5 containers"
    chain = sorted((k for k in s.items if k.startswith("onion.zip")), key=len)
    assert [s.items[k].status for k in chain] == ["skipped"] * len(chain)


def test_zip_lying_about_member_size_is_skipped_not_ok(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    data = bytearray(_zip("big.txt", b"A" * 2_000_000))
    # Declare 10 bytes in the local header and in the central directory: the member
    # inflates to 2 MB, 200,000 times its declared size, past every cap.
    struct.pack_into("<I", data, 22, 10)
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 10)
    (share / "liar.zip").write_bytes(bytes(data))
    (share / "fine.zip").write_bytes(_zip("note.txt", b"hello"))

    s = run(settings, share)

    liar = s.items["liar.zip"]
    assert liar.status == "skipped"
    assert liar.error.startswith("zip bomb guard: a member expands beyond its declared size")
    member = s.items["liar.zip!/big.txt"]
    assert member.status == "skipped" and member.sha256 == ""
    assert s.items["fine.zip"].status == "ok"
