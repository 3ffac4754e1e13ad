"""Identifier columns: bulk check digits, GB phone numbers checked against the numbering
plan without parsing, and table columns read as columns (a column headed UPN whose
values pass the check is a column of UPNs; anything else in it is read as text)."""
from __future__ import annotations

import csv
import random

import phonenumbers
import pytest

from dataward.classifiers.checksums import valid_nhs_numbers, valid_upns
from dataward.classifiers.extractors.text import csv_pieces, extract_csv, text_pieces
from dataward.classifiers.recognizers.uk_phone import UkPhoneRecognizer
from tests.samples import SAMPLES


def test_bulk_nhs_check_agrees_with_presidios_published_cases():
    with open(SAMPLES / "presidio" / "uk_cases.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["entity"] == "UK_NHS"]
    values = [r["text"] for r in rows]
    assert valid_nhs_numbers(values) == [r["expected_count"] == "1" for r in rows]


@pytest.mark.parametrize("values, expected", [
    # The DfE's example UPN, a wrong check letter, a temporary UPN ending in a letter
    # (check letter worked by hand: 8*2 + 2*3 + 2*5 + 1*9 + 4*10 + 1*12 + A(0)*13 = 93,
    # 93 mod 23 = 1 -> B, the second letter of the check alphabet).
    (["U820200014013", "T820200014013", "B82020001401A", "C82020001401A"],
     [True, False, True, False]),
    ([], []),
])
def test_bulk_upn_check(values, expected):
    assert valid_upns(values) == expected


def test_phone_check_is_phonenumbers_rule():
    """The compiled-plan check gives what phonenumbers.parse + is_valid_number give."""
    rng = random.Random(14)
    rec = UkPhoneRecognizer()
    forms = [lambda d: "0" + d, lambda d: "+44 " + d, lambda d: "0" + d[:4] + " " + d[4:],
             lambda d: "+44" + d[:3] + "-" + d[3:]]
    for _ in range(4000):
        digits = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9))
                                                  for _ in range(rng.choice((8, 9, 10))))
        text = rng.choice(forms)(digits)
        number = phonenumbers.parse(text, "GB")
        valid = phonenumbers.is_valid_number(number)
        assert rec.validate_result(text) is valid, text
        if valid:
            assert rec.normalise(text) == phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164)


def test_identifier_headers_make_columns_and_other_cells_stay_text():
    doc = extract_csv(b"Forename,Surname,UPN,NHS Number\nAmelia,Khan,U820200014013,943 476 5919\n")
    assert {c.header: c.values for c in doc.columns} == {
        "UPN": ["U820200014013"], "NHS Number": ["943 476 5919"]}
    assert {c.header: c.labels for c in doc.columns} == {"UPN": ["C2"], "NHS Number": ["D2"]}
    # Other cells are text, one line per row, the header read once (tables.py).
    assert "Amelia\tKhan" in doc.text and "U820200014013" not in doc.text


def test_csv_pieces_carry_the_header_and_row_numbers(monkeypatch):
    import dataward.classifiers.extractors.text as text
    monkeypatch.setattr(text, "PIECE_ROWS", 2)
    rows = "\n".join(f"U820200014013,pupil{i}" for i in range(5))
    pieces = list(csv_pieces(f"UPN,Note\n{rows}\n".encode()))
    assert len(pieces) == 3
    assert [c.labels for p in pieces for c in p.columns] == [["A2", "A3"], ["A4", "A5"], ["A6"]]
    assert pieces[-1].text == "pupil4\n" and pieces[-1].marks == [(0, "B6")]


def test_text_pieces_overlap_and_cover_every_character_once(monkeypatch):
    import dataward.classifiers.extractors.text as text
    monkeypatch.setattr(text, "PIECE_CHARS", 1000)
    data = "".join(f"line {i} UPN U820200014013\n" for i in range(200)).encode()
    pieces = list(text_pieces(data))
    assert len(pieces) > 3
    owned = "".join(p.text[p.keep_from:p.keep_to] for p in pieces)
    assert owned == data.decode()
    assert [p.base + p.keep_from for p in pieces][1:] == [
        sum(p.keep_to - p.keep_from for p in pieces[:i]) for i in range(1, len(pieces))]
    last = pieces[-1]
    assert last.where(last.keep_to - 2) == "line 200"


def test_streamed_text_finds_a_value_cut_by_a_piece_boundary(monkeypatch, classifier):
    import dataward.classifiers.extractors.text as text
    monkeypatch.setattr(text, "PIECE_CHARS", 1000)
    prefix = "x" * 990 + " "
    data = (prefix + "UPN U820200014013 and NHS 943 476 5919\n").encode()
    found = []
    for piece in text_pieces(data):
        found += [(f.entity_type, f.offset) for f in classifier.classify(piece)]
    assert sorted(found) == [("UK_NHS", len(prefix) + 26), ("UK_UPN", len(prefix) + 4)]


def test_identifier_column_findings_are_columns_with_cell_places_previews_and_fingerprints(classifier):
    """A streamed CSV's identifier column gives one ColumnFindings per entity: each cell's
    place from its row number, its preview and its fingerprint (HMAC computed here with
    the standard library), and a cell that fails its check is read as text."""
    import hashlib
    import hmac

    from tests.classifiers.conftest import KEY

    data = (b"Name,UPN,Phone\n"
            b"Amelia Khan,U820200014013,020 7946 0123\n"
            b"Jo,T820200014013,07712 345678\n"        # wrong check letter: read as text
            b"Zoe,B82020001401A,0113 496 0999\n")
    (piece,) = list(csv_pieces(data))
    _, batches = classifier.classify_batched(piece)
    by_entity = {b.entity_type: b for b in batches}
    upn = by_entity["UK_UPN"]
    assert upn.where() == ["B2", "B4"]
    assert upn.previews == ["***********13", "***********1A"]
    assert upn.fingerprints == [
        hmac.new(KEY, f"UK_UPN:{v}".encode(), hashlib.sha256).hexdigest()[:32]
        for v in ("U820200014013", "B82020001401A")]
    phone = by_entity["PHONE_NUMBER"]
    assert phone.where() == ["C2", "C3", "C4"]
    assert phone.previews == ["*** **** **23", "***** ****78", "**** *** **99"]
    assert phone.fingerprints[1] == hmac.new(KEY, b"PHONE_NUMBER:+447712345678",
                                             hashlib.sha256).hexdigest()[:32]
    # The one-Finding-each form says the same.
    same = [f for f in classifier.classify(piece) if f.entity_type in ("UK_UPN", "PHONE_NUMBER")]
    assert sorted((f.entity_type, f.where, f.preview, f.fingerprint) for f in same) == sorted(
        (b.entity_type, w, p, fp) for b in (upn, phone)
        for w, p, fp in zip(b.where(), b.previews, b.fingerprints))
    # Counting only: the same counts, nothing of the values.
    _, counted = classifier.classify_batched(piece, counts_only=True)
    assert [(b.entity_type, len(b), b.fingerprints) for b in counted] == [
        ("UK_UPN", 2, []), ("PHONE_NUMBER", 3, [])]


@pytest.mark.parametrize("entity, value, preview", [
    ("UK_NHS", "943 476 5919", "*** *** **19"),
    ("UK_NHS", " 943 476 5919", "*** *** **19"),     # leading space: stripped first
    ("UK_UPN", "U82020001401é", "***********1é"),    # not ASCII: the slow path
    ("UK_POSTCODE", "sw1a  1aa", "SW1A ***"),
    ("UK_POSTCODE", "M1 1AE", "M1 ***"),
    ("DATE_OF_BIRTH", "03/11/2014", "**/**/****"),
    ("EMAIL_ADDRESS", "Amelia.Khan@Example.ORG", "A***@example.org"),
])
def test_previews_of_a_column_are_the_previews_of_each_value(entity, value, preview):
    from dataward.classifiers.fingerprint import mask, mask_many
    assert mask(entity, value) == preview
    assert mask_many(entity, [value, value]) == [preview, preview]


@pytest.mark.parametrize("entity, values, expected", [
    ("UK_NHS", ["943 476 5919", "943-476-5919"], ["9434765919", "9434765919"]),
    ("UK_UPN", ["u820200014013", "A1\nB2"], ["U820200014013", "A1B2"]),   # a line break inside
    ("UK_NINO", ["QQ 12 34 56 C", "ÀB123456C"], ["QQ123456C", "B123456C"]),
    ("UK_POSTCODE", ["sw1a1aa", "M1  1AE"], ["SW1A 1AA", "M1 1AE"]),
    ("PHONE_NUMBER", ["07712 345678", "+44 (0)20 7946 0123"], ["+447712345678", "+442079460123"]),
])
def test_normalising_a_column_is_normalising_each_value(entity, values, expected):
    from dataward.classifiers.recognizers import PATTERN_RECOGNIZERS
    rec = next(cls() for cls in PATTERN_RECOGNIZERS if cls.ENTITY == entity)
    assert rec.normalise_many(values) == expected
    assert [rec.normalise(v) for v in values] == expected
