"""Names from the school's own roster, found as whole words with an Aho-Corasick automaton
(one pass over the text whatever the roster's size). Every way of writing a person's name
maps back to one canonical name, so "Khan, Amelia" and "Amelia Khan" share a fingerprint."""
from __future__ import annotations

from collections.abc import Iterator

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from ...connectors.roster import Roster
from .terms import TermMatcher, fold

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
            self._matcher = TermMatcher().add("PERSON", is_word_char, self.entries(),
                                              possessive=True).build()
        return self._matcher

    def entries(self) -> Iterator[tuple[str, str]]:
        """(folded written form, canonical name) for every way each person is written."""
        for person in self.roster.people:
            for variant in person.variants:
                yield variant, person.canonical

    @staticmethod
    def resolve(hits: list[tuple[int, int, object]]) -> list[tuple[int, int, str]]:
        """Keep the longest of overlapping hits ("Amelia Khan" over a nested "Khan Amelia")."""
        hits = sorted(hits, key=lambda h: (h[0], -(h[1] - h[0])))
        kept: list[tuple[int, int, str]] = []
        for h in hits:
            if kept and h[0] < kept[-1][1]:
                continue
            kept.append((h[0], h[1], str(h[2])))
        return kept

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, canonical name) of every whole-word roster name in ``text``."""
        return self.resolve(self.matcher.find_in(text)["PERSON"])

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        return [RecognizerResult(self.ENTITY, s, e, SCORE) for s, e, _ in self.find(text)]


__all__ = ["SCORE", "RosterNameRecognizer", "fold", "is_word_char"]
