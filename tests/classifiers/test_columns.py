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
    assert "Forename: Amelia" in doc.text and "U820200014013" not in doc.text


def test_csv_pieces_carry_the_header_and_row_numbers(monkeypatch):
    import dataward.classifiers.extractors.text as text
    monkeypatch.setattr(text, "PIECE_ROWS", 2)
    rows = "\n".join(f"U820200014013,pupil{i}" for i in range(5))
    pieces = list(csv_pieces(f"UPN,Note\n{rows}\n".encode()))
    assert len(pieces) == 3
    assert [c.labels for p in pieces for c in p.columns] == [["A2", "A3"], ["A4", "A5"], ["A6"]]
    assert "Note: pupil4" in pieces[-1].text


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
