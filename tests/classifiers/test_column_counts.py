"""Counting a CSV as Arrow columns (the screening before packaging) gives the counts of
the streamed reading, cell by cell, on dense and sparse exports, the repository's sample
CSVs and files made to trip a CSV reader; and the planted identifiers are all counted."""
from __future__ import annotations

import random
from collections import Counter

import pyarrow as pa
import pytest

from dataward.classifiers.bulk_shapes import bulk_accepted
from dataward.classifiers.column_check import CONTEXT_BOOST
from dataward.classifiers.column_counts import arrow_table, counted_csv_pieces
from dataward.classifiers.extractors.text import (PIECE_CHARS, PIECE_ROWS, ReadAsText,
                                                   csv_pieces, text_pieces)
from tests.dense_export import HEADER, dense_csv
from tests.samples import SAMPLES

PLANTED = ("UK_UPN", "UK_NHS", "DATE_OF_BIRTH", "UK_POSTCODE", "PHONE_NUMBER", "EMAIL_ADDRESS")


def _count(classifier, pieces) -> Counter[str]:
    out: Counter[str] = Counter()
    for doc in pieces:
        findings, batches = classifier.classify_batched(doc, counts_only=True)
        out.update(f.entity_type for f in findings)
        for batch in batches:
            out[batch.entity_type] += len(batch)
    return out


def _streamed(classifier, data: bytes, delimiter: str | None = None) -> Counter[str]:
    try:
        return _count(classifier, csv_pieces(data, delimiter))
    except ReadAsText:  # what the scan does: the item is read again as text
        return _count(classifier, text_pieces(data))


def _counted(classifier, data: bytes, delimiter: str | None = None) -> Counter[str]:
    try:
        return _count(classifier, counted_csv_pieces(data, delimiter,
                                                     threshold=classifier.threshold))
    except ReadAsText:
        return _count(classifier, text_pieces(data))


def _same(classifier, data: bytes, delimiter: str | None = None) -> Counter[str]:
    counted = _counted(classifier, data, delimiter)
    assert counted == _streamed(classifier, data, delimiter)
    return counted


def test_dense_export_counts_every_planted_value_as_the_streamed_reading(classifier):
    export = dense_csv(3000, seed=7)
    data = export.text.encode()
    assert arrow_table(data) is not None          # the Arrow reading is the one taken
    counted = _same(classifier, data)
    for entity in PLANTED:                           # planted by the generator, not dataward
        assert counted[entity] == len(export.planted[entity]) == 3000


def test_sparse_variant_and_lower_threshold(classifier):
    export = dense_csv(2000, seed=8)
    lines = export.text.splitlines()
    # Identifier cells replaced by letters of the same length; one row in ten kept.
    sparse = [lines[0]] + [line if i % 10 == 0 else ",".join(
        "x" * len(c) if k in (0, 3, 6, 7, 8, 9) else c for k, c in enumerate(line.split(",")))
        for i, line in enumerate(lines[1:])]
    counted = _same(classifier, ("\n".join(sparse) + "\n").encode())
    assert counted["UK_UPN"] == counted["UK_NHS"] == 200


def test_pieces_cut_where_the_streamed_reading_cuts_them(classifier):
    # More rows than a piece holds; then a notes column long enough to cut by characters.
    export = dense_csv(PIECE_ROWS + 500, seed=9)
    assert len(list(csv_pieces(export.text.encode()))) == 2
    assert _same(classifier, export.text.encode())["UK_NHS"] == PIECE_ROWS + 500
    rng = random.Random(3)
    rows = ["Name,Notes,Phone"]
    for i in range(PIECE_CHARS // 900 + 50):
        note = " ".join(rng.choice(["call", "mum", "on", "07700 900123", "Amelia", "Khan",
                                    "asthma", "DOB", "12/03/2014", "x"]) for _ in range(150))
        rows.append(f"Pupil {i},{note},0113 496 0{i % 1000:03d}")
    data = ("\n".join(rows) + "\n").encode()
    assert len(list(csv_pieces(data))) == 2
    assert _same(classifier, data)["PHONE_NUMBER"] >= len(rows) - 1


def _cells_file(header: str, cells: list[str]) -> bytes:
    return (f"Name,{header}\n" + "".join(f"p{i},{c}\n" for i, c in enumerate(cells))).encode()


NASTY_CELLS = {
    "NHS Number": ["943 476 5919", "943-476-5919", "9434765919", "943 476 5918", "943476 5919",
                   "1111111111", "٩٤٣٤٧٦٥٩١٩", "943 476 5919 (old)", " 943 476 5919\x1c",
                   "943 476 5919 ", "no number", "4010232137"],
    "UPN": ["U820200014013", "T820200014013", "B82020001401A", "u820200014013",
            "U 820200014013", "U820200014013X", "Ｕ820200014013"],
    # Check digits by hand: 1234567899 (weighted sum 210, 210 mod 11 = 1, 10 - 1 = 9) and
    # 9999999998 (486 mod 11 = 2).
    "ULN": ["1234567899", "9999999998", "9999999999", "1000000042", "0000000042",
            "1234567890", "5000000000", "123456789 9"],
    "DOB": ["12/03/2014", "31/02/2015", "29/02/2016", "29/02/2015", "12.03.2014", "12-03-2014",
            "2014-03-12", "1/3/2014", "12/03/14", "12/03/2099", "01/01/1899", "3rd March 2014",
            "12/13/2014", "00/01/2014"],
    "Postcode": ["SW1A 1AA", "sw1a 1aa", "SW1A1AA", "GIR 0AA", "gir0aa", "EC1A 1BB", "M1 1AE",
                 "B33 8TH", "CR2 6XH", "DN55 1PT", "QQ1 1AA", "SW1A  1AA", "K1 1AA", "\u212a1 1AA"],
    "Primary Phone": ["07700 900123", "07700900123", "+44 7700 900123", "+447700900123",
                      "020 7946 0123", "0113 496 0123", "(020) 7946 0123", "020-7946-0123",
                      "07624 123456", "01481 123456", "01534 123456", "07000 000000",
                      "0800 123 4567", "09 1234 5678", "+44 (0)20 7946 0123", "7700 900123",
                      "07700 900123 ext 4", "+33 1 23 45 67 89"],
    "Parent Email": ["amelia.khan@example.co.uk", "a..b@example.com", "a@b..com",
                     "o'brien@school.sch.uk", "x@-bad.com", "MUM@EXAMPLE.COM", "a@b.c",
                     "first.last+tag@sub.example.org", "ünï@example.com", "@example.com"],
    # QQ123456C is HMRC's own example (Q is never issued); AB, CE, TW, OA are allowed
    # prefixes; GB and NT are never issued; E is not a suffix; O second is refused.
    "NI Number": ["QQ 12 34 56 C", "AB123456C", "GB123456A", "CE123456D", "TW 12 34 56 A",
                  "ab123456c", "AB 123456 C", "AB123456E", "NT123456A", "AO123456B",
                  "OA123456B", "AB12345C", "AB1234567C", "ＡＢ123456C", "AB123456C "],
    "Passport": ["123456789", "AB1234567", "ab1234567", "12345678", "1234567890",
                 "A12345678", "AB-1234567", "925665416", "PA1234567 "],
    "Phone or Email": ["07700 900123", "amelia@example.com"],
}


@pytest.mark.parametrize("header", sorted(NASTY_CELLS))
def test_identifier_cells_of_every_kind(classifier, header):
    cells = NASTY_CELLS[header]
    rng = random.Random(header)
    data = _cells_file(header, cells * 40 + rng.sample(cells, len(cells)))  # bulk from 500
    assert arrow_table(data) is not None
    _same(classifier, data)


@pytest.mark.parametrize("entity, header", [
    ("UK_NHS", "NHS Number"), ("UK_UPN", "UPN"), ("UK_ULN", "ULN"), ("DATE_OF_BIRTH", "DOB"),
    ("UK_POSTCODE", "Postcode"), ("PHONE_NUMBER", "Primary Phone"),
    ("EMAIL_ADDRESS", "Parent Email"), ("UK_NINO", "NI Number"), ("UK_PASSPORT", "Passport")])
def test_bulk_acceptance_is_the_recognizers_own(classifier, entity, header):
    """Every cell accepted in bulk gets the very score the recognizer gives it (enough
    cells that phone numbers are checked against the plan in bulk too)."""
    cells = NASTY_CELLS[header] * 40
    accepted = bulk_accepted(entity, pa.array(cells, pa.string()))
    assert accepted is not None
    mask, score = accepted
    scores = classifier.recognizers[entity].column_scores(cells)
    for cell, yes, expected in zip(cells, mask, scores):
        if yes:
            assert expected == score, cell
    assert mask.any()


def _mutated(value: str, rng: random.Random) -> str:
    """One slip of the kind a typist or a converter makes."""
    i = rng.randrange(len(value))
    kind = rng.randrange(7)
    if kind == 0:
        return value[:i] + str(rng.randrange(10)) + value[i + 1:]       # a wrong digit
    if kind == 1:
        return value[:i] + value[i + 1:]                                # a character lost
    if kind == 2:
        return value[:i] + rng.choice(" -./") + value[i:]               # a separator more
    if kind == 3:
        return value.lower() if rng.random() < 0.5 else value.upper()
    if kind == 4:
        return value[:i] + rng.choice("\u0660\u00a0O\u212aé") + value[i + 1:]  # look-alikes
    if kind == 5:
        return f" {value}\t"
    return value[::-1]


def test_mutated_exports(classifier):
    """A dense export with a third of its identifier cells mistyped: whatever each slip
    makes of a value, both readings count it alike."""
    rng = random.Random(15)
    lines = dense_csv(1500, seed=12).text.splitlines()
    rows = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        for k in (0, 3, 6, 7, 8, 9):
            if rng.random() < 0.33:
                cells[k] = _mutated(cells[k], rng)
        rows.append(",".join(cells))
    data = ("\n".join(rows) + "\n").encode()
    assert arrow_table(data) is not None
    counted = _same(classifier, data)
    assert 0 < counted["UK_NHS"] < 1500


def test_an_nhs_column_whose_values_fail_the_check(classifier):
    data = _cells_file("NHS Number", ["943 476 5918", "123 456 7890", "000 000 0000"] * 20)
    assert _same(classifier, data)["UK_NHS"] == 0


def _dense(rows: int = 200, seed: int = 11) -> str:
    return dense_csv(rows, seed=seed).text


@pytest.mark.parametrize("name, data, arrow", [
    ("BOM", b"\xef\xbb\xbf" + _dense().encode(), True),
    ("cp1252", _dense().replace("Smith", "Sm\u00efth").encode("cp1252"), True),
    ("cp1252, a byte it leaves undefined", _dense().replace("Smith", "Sm\u00efth").encode(
        "cp1252").replace(b"Jones", b"Jo\x81nes"), True),
    ("cp1252 clean", "Pupil,UPN,Notes\n".encode() + "Zo\u00eb,U820200014013,caf\u00e9\n".encode("cp1252"), True),
    ("utf-16", _dense().encode("utf-16"), True),
    ("CRLF", _dense().replace("\n", "\r\n").encode(), True),
    ("CR", _dense().replace("\n", "\r").encode(), True),
    ("no final newline", _dense().rstrip("\n").encode(), True),
    ("quoted newlines", (_dense() + '"U820200014013","Khan\n\nAmelia",Smith,,,,"943 476 5919\r\n",,,\n').encode(), True),
    ("quotes", _dense().replace("Smith", '"Smith"').encode(), True),
    ("every field quoted", "\n".join('"' + '","'.join(line.split(",")) + '"' for line in _dense().splitlines()).encode(), True),
    ("doubled quotes", _dense().replace("Smith", '"Sm""i,th"""').replace("Jones", '""').encode(), True),
    ("quote inside a field", _dense().replace("Smith", 'Sm"ith').encode(), False),
    ("text after a closing quote", _dense().replace("Smith", '"Smi"th').encode(), False),
    ("a quote left open", (_dense() + '"U820200014013,Khan\n').encode(), False),
    ("a quote at a field's start, then text", _dense().replace("Smith", '"Sm"ith"').encode(), False),
    ("ragged", (_dense() + "U820200014013,extra\n").encode(), False),
    ("blank line", _dense().replace("\n", "\n\n", 3).encode(), False),
    ("empty", b"", False),
    ("header only", (",".join(HEADER) + "\n").encode(), True),
    ("title row", ("Class 3 list, Autumn 2024\n" + _dense()).encode(), False),
    ("semicolons", _dense().replace(",", ";").encode(), True),
    ("tabs", _dense().replace(",", "\t").encode(), True),
    ("NUL", _dense().replace("Smith", "Sm\0ith").encode(), False),
    ("padded", _dense().replace(",", " , ").encode(), True),
    ("cue column", b"Pupil,Birth date,Notes\nA,12/03/2014,x\n", False),
    ("cue identifier column", b"Pupil,Born on,Notes\nA,12/03/2014,x\n", True),
    ("empty header cell", ("Pupil,,UPN\nA,943 476 5919,U820200014013\n" * 1).encode(), True),
    ("same header twice", b"UPN,UPN,Name\nU820200014013,U820200014013,A\n", True),
    ("big field", ("Name,Notes\nA," + "x" * 140_000 + "\n").encode(), False),
])
def test_nasty_files(classifier, name, data, arrow):
    assert (arrow_table(data) is not None) is arrow
    _same(classifier, data)


def test_a_file_over_the_arrow_size_is_streamed(classifier, monkeypatch):
    from dataward.classifiers.extractors import arrow_csv
    data = _dense(300).encode()
    monkeypatch.setattr(arrow_csv, "MAX_BYTES", len(data) - 1)
    assert arrow_table(data) is None
    assert _same(classifier, data)["UK_UPN"] == 300


def test_a_10_mb_line(classifier):
    cells = ["x" * 42] * 240_000
    for i in range(0, len(cells), 24_000):
        cells[i] = "943 476 5919"
    data = ("NHS Number," + ",".join(cells) + "\n").encode()
    assert len(data) > 10_000_000
    assert arrow_table(data) is None
    assert _same(classifier, data)["UK_NHS"] == 10


def test_sample_csvs(classifier):
    files = sorted(SAMPLES.rglob("*.csv"))
    assert len(files) >= 5
    for path in files:
        _same(classifier, path.read_bytes())


def test_scores_of_accepted_cells_pass_the_threshold():
    assert round(min(1.0, 0.5 + CONTEXT_BOOST), 3) == 0.75
