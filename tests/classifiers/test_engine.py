"""The classifier finds every entity type, with fingerprints and masks and never values."""
import pytest

from dataward.classifiers.engine import Classifier
from dataward.classifiers.extractors.text import extract_csv
from dataward.classifiers.fingerprint import Fingerprinter
from dataward.connectors.roster import Roster

KEY = b"k" * 32

PLANTED = {
    "PERSON": "Amelia Khan",
    "UK_UPN": "U820200014013",
    "UK_ULN": "9999999999",
    "UK_NHS": "943 476 5919",
    "UK_NINO": "AB 12 34 56 C",
    "UK_PASSPORT": "925076473",
    "UK_POSTCODE": "B33 8TH",
    "PHONE_NUMBER": "020 7946 0123",
    "EMAIL_ADDRESS": "a.khan@oakfield.sch.uk",
    "DATE_OF_BIRTH": "12/03/2014",
}


def _valid_uln():
    return "1000000043"   # a published valid ULN (ESFA ILR validation tests, see test_checksums)


def _document(values):
    return (f"Pupil {values['PERSON']} (UPN {values['UK_UPN']}, ULN {values['UK_ULN']}), "
            f"DOB: {values['DATE_OF_BIRTH']}.\nNHS number {values['UK_NHS']}; NI number "
            f"{values['UK_NINO']}; passport {values['UK_PASSPORT']}.\nHome: 4 Mill Road, "
            f"Birmingham {values['UK_POSTCODE']}. Tel {values['PHONE_NUMBER']}. Email "
            f"{values['EMAIL_ADDRESS']}. Diagnosed with epilepsy; has an EHCP.")


def test_every_entity_type_is_found_once(found):
    values = dict(PLANTED, UK_ULN=_valid_uln())
    findings = found(_document(values))
    types = sorted(f.entity_type for f in findings if f.entity_type != "SPECIAL_CATEGORY")
    assert types == sorted(values)
    cats = {f.category for f in findings if f.entity_type == "SPECIAL_CATEGORY"}
    assert cats == {"health", "sen"}


def test_no_finding_holds_a_raw_value(found):
    values = dict(PLANTED, UK_ULN=_valid_uln())
    for f in found(_document(values)):
        blob = repr(f)
        for raw in values.values():
            assert raw not in blob


def test_fingerprints_are_keyed_and_normalised(classifier):
    a = classifier.classify_text("UPN U820200014013")[0]
    b = classifier.classify_text("upn: U820200014013.")[0]
    assert a.fingerprint == b.fingerprint == Fingerprinter(KEY)("UK_UPN", "U820200014013")
    other = Classifier(b"x" * 32).classify_text("UPN U820200014013")[0]
    assert other.fingerprint != a.fingerprint


def test_roster_name_forms_share_one_fingerprint(found):
    fs = found("Amelia Khan; later KHAN, Amelia; then khan amelia.", "PERSON")
    assert len(fs) == 3 and len({f.fingerprint for f in fs}) == 1


def test_roster_names_are_whole_words(found):
    assert found("Ameliakhan and Amelia Khanson are not pupils here", "PERSON") == []
    assert len(found("Jo O'Brien signed it", "PERSON")) == 1


@pytest.mark.parametrize("text, entity", [
    ("UPN T820200014013", "UK_UPN"),            # wrong check letter
    ("NHS 943 476 5918", "UK_NHS"),             # wrong check digit
    ("The meeting is on 12/03/2014.", "DATE_OF_BIRTH"),  # a date, but no birth cue
    ("Order number 925076473", "UK_PASSPORT"),  # nine digits, no passport cue
    ("Call 01632 960123", "PHONE_NUMBER"),      # not a valid number in the UK plan
    ("asthma leaflet for parents", "PERSON"),
])
def test_lookalikes_are_not_findings(found, text, entity):
    assert found(text, entity) == []


def test_school_email_addresses_are_found(found):
    fs = found("Write to head@oakfield.sch.uk or office@st-mary-s.n-yorks.sch.uk", "EMAIL_ADDRESS")
    assert [f.preview for f in fs] == ["h***@oakfield.sch.uk", "o***@st-mary-s.n-yorks.sch.uk"]


def test_table_header_gives_the_birth_cue():
    classifier = Classifier(KEY, Roster())
    doc = extract_csv(b"Name,DOB,Class\nAmelia Khan,12/03/2014,6B\n")
    fs = [f for f in classifier.classify(doc) if f.entity_type == "DATE_OF_BIRTH"]
    assert len(fs) == 1 and fs[0].where == "B2"


def test_names_split_over_cells_are_found(classifier):
    doc = extract_csv(b"Forename,Surname,Year\nAmelia,Khan,6\n")
    assert [f.entity_type for f in classifier.classify(doc)] == ["PERSON"]


def test_long_prose_without_identifiers_has_no_findings(found):
    text = "The class visited the museum and wrote about the Romans. " * 2000
    assert found(text) == []
