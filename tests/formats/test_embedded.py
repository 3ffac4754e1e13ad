"""Objects embedded in Office files: a file packaged by Windows as an OLE 1.0 object
(Ole10Native inside a compound file, as Word stores a zip or a PDF dropped into a
document) is unwrapped and read as the file it holds."""
from __future__ import annotations

import io
import struct
import zipfile

import docx

from dataward.classifiers.extractors import extract

from .conftest import run

SECTOR = 512
END, FREE, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, start: int, size: int, child: int = NOSTREAM) -> bytes:
    raw = (name + "\0").encode("utf-16-le") if name else b""
    return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", NOSTREAM, NOSTREAM, child) + b"\0" * 16 + b"\0" * 4
            + b"\0" * 16 + struct.pack("<IQ", start, size))


def compound_file(stream_name: str, data: bytes) -> bytes:
    """A minimal OLE2 compound file (version 3) holding one stream of >= 4096 bytes, laid
    out by the published format [MS-CFB]: header, one FAT sector, one directory sector,
    then the stream's sectors."""
    assert len(data) >= 4096  # smaller streams would live in the mini stream
    n = -(-len(data) // SECTOR)
    fat = [FATSECT, END] + [3 + i if i < n - 1 else END for i in range(n)]
    fat += [FREE] * (SECTOR // 4 - len(fat))
    # Signature, CLSID, versions, byte order, sector shifts, reserved; directory and FAT
    # sector counts, first directory sector, transaction, mini stream cutoff, mini FAT
    # (none), DIFAT (none beyond the header's 109 entries: the FAT is sector 0).
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
              + struct.pack("<109I", 0, *([FREE] * 108)))
    directory = (_dir_entry("Root Entry", 5, END, 0, child=1) + _dir_entry(stream_name, 2, 2, len(data))
                 + _dir_entry("", 0, 0, 0) * 2)
    body = struct.pack(f"<{SECTOR // 4}I", *fat) + directory + data.ljust(n * SECTOR, b"\0")
    return header.ljust(SECTOR, b"\0") + body


def ole10_native(label: str, payload: bytes) -> bytes:
    temp = f"C:\\Users\\office\\AppData\\Local\\Temp\\{label}\0".encode("latin-1")
    body = (struct.pack("<H", 2) + f"{label}\0".encode("latin-1")
            + f"C:\\Users\\office\\Desktop\\{label}\0".encode("latin-1")
            + struct.pack("<II", 0x00030000, len(temp)) + temp + struct.pack("<I", len(payload))
            + payload + b"\0" * 6)
    return struct.pack("<I", len(body)) + body


def _zip_of(name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(name, text)
        zf.writestr("padding.txt", "." * 5000)  # the stream is then over 4096 bytes
    return buf.getvalue()


def _docx_with(embedded: dict[str, bytes]) -> bytes:
    d = docx.Document()
    d.add_paragraph("Please see the attached list.")
    buf = io.BytesIO()
    d.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name, data in embedded.items():
            dst.writestr(name, data)
    return out.getvalue()


def test_a_zip_packaged_as_an_ole_object_is_unwrapped():
    inner = _zip_of("pupils.csv", "Name,UPN\nAmelia Khan,U820200014013\n")
    obj = compound_file("\x01Ole10Native", ole10_native("class list.zip", inner))
    doc = extract("docx", _docx_with({"word/embeddings/oleObject1.bin": obj}))
    assert [m.name for m in doc.children] == ["embeddings/oleObject1.bin/class list.zip"]
    assert doc.children[0].data == inner


def test_the_zip_inside_a_document_is_scanned_as_items(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    inner = _zip_of("pupils.csv", "Name,UPN\nAmelia Khan,U820200014013\n")
    obj = compound_file("\x01Ole10Native", ole10_native("class list.zip", inner))
    (share / "letter.docx").write_bytes(_docx_with({"word/embeddings/oleObject1.bin": obj}))
    s = run(settings, share)
    csv = s.items["letter.docx!/embeddings/oleObject1.bin/class list.zip!/pupils.csv"]
    assert (csv.status, csv.n_uk_upn, csv.n_person) == ("ok", 1, 1)
