"""Roster names as documents really write them: possessives, typographic apostrophes,
and a forename and surname split by a no-break space, a tab, two spaces or a line."""
import pytest

from dataward.classifiers.engine import Classifier
from dataward.connectors.roster import Person, Roster

KEY = b"n" * 32


@pytest.fixture(scope="module")
def names() -> Classifier:
    roster = Roster([
        Person("amber o'connor", ("amber o'connor", "o'connor, amber", "o'connor amber"), "pupils"),
        Person("layla white", ("layla white", "white, layla", "white layla"), "pupils"),
        Person("jo o'brien", ("jo o'brien",), "staff"),
        Person("james ross", ("james ross",), "staff"),
    ])
    return Classifier(KEY, roster)


def _people(classifier, text):
    return [f for f in classifier.classify_text(text) if f.entity_type == "PERSON"]


@pytest.mark.parametrize("text", [
    "Amber O'Connor's reading record",
    "Amber O\u2019Connor\u2019s reading record",
    "See James Ross' notes",
    "Jo O\u2019Brien signed it",
])
def test_possessives_and_curly_apostrophes(names, text):
    found = _people(names, text)
    assert len(found) == 1
    assert found[0].offset == (text.index("Amber") if "Amber" in text else
                               text.index("James") if "James" in text else text.index("Jo"))


def test_one_person_one_fingerprint_whatever_the_apostrophe(names):
    straight = _people(names, "Amber O'Connor")[0].fingerprint
    assert _people(names, "Amber O\u2019Connor\u2019s")[0].fingerprint == straight


@pytest.mark.parametrize("gap", ["\u00a0", "\t", "  ", "\n", " \r\n  ", "\u202f"])
def test_forename_and_surname_split_by_other_white_space(names, gap):
    text = f"Notes for  the day.\tAttended: Layla{gap}White, Year 6"
    found = _people(names, text)
    assert len(found) == 1
    assert found[0].offset == text.index("Layla")
    assert found[0].preview == "L**** W****"


def test_offsets_after_collapsed_space_still_point_at_the_name(names):
    text = "a     b      c\n\n\n\nLayla White   and    White,  Layla"
    found = _people(names, text)
    assert [f.offset for f in found] == [text.index("Layla White"), text.index("White,  Layla")]


@pytest.mark.parametrize("text", [
    "Amber O'Connor-Smith",    # a longer surname is someone else
    "Amber O'Connorsmith",
    "Layla Whitehouse",
])
def test_longer_words_are_not_the_name(names, text):
    assert _people(names, text) == []
