import pytest

from dataward.classifiers.engine import Classifier
from dataward.connectors.roster import Person, Roster

KEY = b"k" * 32


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    roster = Roster([Person("amelia khan", ("amelia khan", "khan, amelia", "khan amelia"), "pupils"),
                     Person("jo o'brien", ("jo o'brien", "o'brien, jo"), "staff")])
    return Classifier(KEY, roster)


@pytest.fixture
def found(classifier):
    def run(text: str, entity: str | None = None):
        fs = classifier.classify_text(text)
        return [f for f in fs if entity is None or f.entity_type == entity]
    return run
