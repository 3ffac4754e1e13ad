"""Names from the school's own roster, found as whole words with an Aho-Corasick automaton
(one pass over the text whatever the roster's size). Every way of writing a person's name
maps back to one canonical name, so "Khan, Amelia" and "Amelia Khan" share a fingerprint."""
from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

from ...connectors.names import fold_text
from ...connectors.roster import Roster
from .terms import TermMatcher

SCORE = 0.85


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_'-"


class RosterNameRecognizer(EntityRecognizer):
    ENTITY = "PERSON"

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self._matcher: TermMatcher | None = None
        super().__init__(supported_entities=[self.ENTITY], name="RosterNameRecognizer",
                         supported_language="en")

    def load(self) -> None:  # the automaton is built on first use
        pass

    @property
    def matcher(self) -> TermMatcher:
        """Built on first use: the engine scans text with its own combined automaton, so
        this one is needed only for file and folder names."""
        if self._matcher is None:
            self._matcher = TermMatcher().add("PERSON", is_word_char, self.entries()).build()
        return self._matcher

    def entries(self):
        """(folded written form, canonical name) for every way each person is written."""
        for person in self.roster.people:
            for variant in person.variants:
                yield variant, person.canonical

    @staticmethod
    def resolve(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """Keep the longest of overlapping hits ("Amelia Khan" over a nested "Khan Amelia")."""
        hits = sorted(hits, key=lambda h: (h[0], -(h[1] - h[0])))
        kept: list[tuple[int, int, str]] = []
        for h in hits:
            if kept and h[0] < kept[-1][1]:
                continue
            kept.append(h)
        return kept

    def find(self, text: str, folded: str | None = None) -> list[tuple[int, int, str]]:
        """(start, end, canonical name) of every whole-word roster name in ``text``."""
        folded = fold(text) if folded is None else folded
        return self.resolve(self.matcher.find(folded)["PERSON"])

    def analyze(self, text, entities, nlp_artifacts=None):
        return [RecognizerResult(self.ENTITY, s, e, SCORE) for s, e, _ in self.find(text)]


def fold(text: str) -> str:
    """The text as names are looked for in it, with the same length (offsets stay valid):
    ``connectors.names.fold_text``, the rule retention's matching uses too."""
    return fold_text(text)
