"""The screening before packaging counts a CSV's identifier columns in bulk (Arrow): its
summary is the one the streamed, cell-by-cell reading gives, file for file, and every
identifier the exports were made with is counted."""
from __future__ import annotations

import io
import zipfile

from dataward.classifiers import column_counts
from dataward.transfer.screening import scan_selection
from tests.dense_export import dense_csv

PLANTED = ("UK_UPN", "UK_NHS", "DATE_OF_BIRTH", "UK_POSTCODE", "PHONE_NUMBER", "EMAIL_ADDRESS")


def _files(folder) -> int:
    """MIS exports, plain and awkward; returns the rows holding planted identifiers."""
    texts = {name: dense_csv(rows, seed=seed).text for name, rows, seed in [
        ("class-1.csv", 1500, 31), ("bom.csv", 200, 32), ("cp1252.csv", 200, 33),
        ("quoted.csv", 200, 34), ("ragged.csv", 200, 35), ("tabs.tsv", 200, 36),
        ("crlf.csv", 200, 37), ("in-zip.csv", 200, 38)]}
    planted = 2900
    (folder / "class-1.csv").write_text(texts["class-1.csv"])
    (folder / "bom.csv").write_bytes(b"\xef\xbb\xbf" + texts["bom.csv"].encode())
    (folder / "cp1252.csv").write_bytes(texts["cp1252.csv"].replace("Smith", "Sm\u00eftha")
                                        .encode("cp1252"))
    (folder / "quoted.csv").write_text("\n".join(
        '"' + '","'.join(line.split(",")) + '"' for line in texts["quoted.csv"].splitlines())
        + '\n"","Khan\nAmelia","Smith","","","","","","",""\n')
    (folder / "ragged.csv").write_text(texts["ragged.csv"] + "no identifiers,here\n")
    (folder / "tabs.tsv").write_text(texts["tabs.tsv"].replace(",", "\t"))
    (folder / "crlf.csv").write_bytes(texts["crlf.csv"].replace("\n", "\r\n").encode())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("exports/in-zip.csv", texts["in-zip.csv"])
    (folder / "exports.zip").write_bytes(buf.getvalue())
    (folder / "nhs-fails.csv").write_text("Name,NHS Number\n" + "".join(
        f"Pupil {i},943 476 59{i % 10}{(i + 3) % 10}\n" for i in range(50) if (i % 10, (i + 3) % 10) != (1, 9)))
    (folder / "empty.csv").write_bytes(b"")
    (folder / "one-line.csv").write_text("NHS Number," + ",".join(["x" * 42] * 30_000) + "\n")
    return planted


def test_screening_counts_as_the_streamed_reading_does(school, monkeypatch):
    school.write_config(scan_before_packaging=True)
    folder = school.share / "exports"
    folder.mkdir()
    planted = _files(folder)
    settings = school.settings()
    columns = scan_selection([folder], settings)
    monkeypatch.setattr(column_counts, "COUNTED", {})   # the streamed reading, cell by cell
    streamed = scan_selection([folder], settings)
    assert columns == streamed
    assert columns.status == "scanned"
    for entity in PLANTED:
        assert columns.entity_counts[entity] == planted, entity
    # 11 files and the zip's member; the empty file is not readable; the seven exports
    # and the zip's member hold personal data.
    assert columns.items == 12
    assert columns.files_not_readable == 1
    assert columns.files_with_personal_data == 8
