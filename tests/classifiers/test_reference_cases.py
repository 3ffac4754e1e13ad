"""Other projects' test cases for UK identifiers (tests/data/samples), run through the whole
classifier. Where dataward deliberately differs, the case is listed with the reason."""
import csv
import json

import pytest

from tests.samples import SAMPLES
OURS = {"UK_NHS", "UK_NINO", "UK_PASSPORT", "UK_POSTCODE", "EMAIL_ADDRESS", "PHONE_NUMBER"}
# Differences on purpose: a passport number alone is nine characters that could be
# anything; dataward wants the word "passport" near it. US numbers are not UK phones.
DIFFERENT = {
    "AB1234567": 0, "XY9876543": 0, "ab1234567": 0,
    "My US number is (415) 555-0132, and my international one is +44 (20) 7123 4567": 1,
}


def _rows(name):
    with open(SAMPLES / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


PRESIDIO = [r for r in _rows("presidio/uk_cases.csv") if r["entity"] in OURS]
SCRUBADUB = [r for r in _rows("scrubadub/uk_before_after_cases.csv") if r["entity"] in OURS]


@pytest.mark.parametrize("case", PRESIDIO, ids=lambda r: f"{r['entity']}-{r['label']}")
def test_presidio_uk_cases(case, found):
    expected = DIFFERENT.get(case["text"], int(case["expected_count"]))
    assert len(found(case["text"], case["entity"])) == expected


@pytest.mark.parametrize("case", SCRUBADUB, ids=lambda r: r["entity"])
def test_scrubadub_cases(case, found):
    assert len(found(case["text"], case["entity"])) == int(case["expected_count"])


def test_hmrc_nino_cases():
    from dataward.classifiers.recognizers.uk_nino import is_valid_nino
    rows = [r for r in _rows("hmrc-domain/hmrc_reference_cases.csv") if r["entity"] == "UK_NINO"]
    assert len(rows) > 40
    for r in rows:
        v = r["value"]
        strict = v == v.strip() and v == v.upper()  # HMRC validates the whole string
        assert (strict and is_valid_nino(v)) == (r["expected_valid"] == "true"), r["note"]


def test_ideal_postcodes_validation(found):
    cases = json.loads((SAMPLES / "ideal-postcodes" / "validation.json").read_text())["tests"]
    for case in cases:
        assert bool(found(case["base"], "UK_POSTCODE")) == case["expected"], case["base"]
