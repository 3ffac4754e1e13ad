"""The special-category lexicon: DfE code-set terms are found, role names are not, and
overlapping terms count once."""
import pytest

from dataward.classifiers.engine import Classifier
from dataward.connectors.roster import Person, Roster


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(b"t" * 32, Roster([Person("christian hale", ("christian hale",), "staff")]))


def _terms(clf, text):
    return [f.category for f in clf.classify_text(text) if f.entity_type == "SPECIAL_CATEGORY"]


@pytest.mark.parametrize(("text", "category"), [
    ("Layla is on the SEN register", "sen"),
    ("raised a safeguarding issue on Monday", "safeguarding"),
    ("has a hearing impairment", "sen"),
    ("Primary need: SEMH", "sen"),
    ("lives with cerebral palsy", "health"),
    ("recorded code APKN", "ethnicity"),
    ("family is Pakistani", "ethnicity"),
    ("Bangladeshi heritage", "ethnicity"),
    ("White Irish", "ethnicity"),
    ("recorded as WBRI", "ethnicity"),
    ("Gypsy/Roma", "ethnicity"),
    ("Gypsy / Roma", "ethnicity"),
    ("family are practising Christian", "religion"),
    ("Education, Health and Care Plan review", "sen"),
    ("EHC plan agreed", "sen"),
])
def test_code_set_terms_are_found_once(clf, text, category):
    assert _terms(clf, text) == [category]


@pytest.mark.parametrize("text", [
    "Please speak to Mrs Green, SENCo, about the trip",
    "Our SENDCo is in on Tuesdays",
    "The designated safeguarding lead is Mr Ward",
    "Christian Hale will run the chess club",   # a name, not a religion
    "Please send the form back by Friday",
    "St Mary's Catholic Primary School, a Church of England academy",
])
def test_role_names_words_and_names_are_not_terms(clf, text):
    assert _terms(clf, text) == []
