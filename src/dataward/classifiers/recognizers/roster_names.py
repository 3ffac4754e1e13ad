"""Names from the school's own roster, found as whole words with an Aho-Corasick automaton
(one pass over the text whatever the roster's size). Every way of writing a person's name
maps back to one canonical name, so "Khan, Amelia" and "Amelia Khan" share a fingerprint."""
from __future__ import annotations

import ahocorasick
from presidio_analyzer import EntityRecognizer, RecognizerResult

from ...connectors.roster import Roster

SCORE = 0.85


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_'-"


class RosterNameRecognizer(EntityRecognizer):
    ENTITY = "PERSON"

    def __init__(self, roster: Roster) -> None:
        self.automaton = ahocorasick.Automaton()
        for person in roster.people:
            for variant in person.variants:
                self.automaton.add_word(variant, (len(variant), person.canonical))
        self.empty = len(self.automaton) == 0
        if not self.empty:
            self.automaton.make_automaton()
        super().__init__(supported_entities=[self.ENTITY], name="RosterNameRecognizer",
                         supported_language="en")

    def load(self) -> None:  # the automaton is built in __init__
        pass

    def find(self, text: str, folded: str | None = None) -> list[tuple[int, int, str]]:
        """(start, end, canonical name) of every whole-word roster name in ``text``."""
        if self.empty:
            return []
        folded = folded if folded is not None else text.casefold()
        if len(folded) != len(text):  # casefold changed lengths (e.g. German ß): use lower()
            folded = text.lower()
        hits: list[tuple[int, int, str]] = []
        for end_index, (length, canon) in self.automaton.iter(folded):
            start, end = end_index - length + 1, end_index + 1
            if (start > 0 and _is_word_char(folded[start - 1])) or (
                    end < len(folded) and _is_word_char(folded[end])):
                continue
            hits.append((start, end, canon))
        # Keep the longest of overlapping hits ("Amelia Khan" over a nested "Khan Amelia").
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        kept: list[tuple[int, int, str]] = []
        for h in hits:
            if kept and h[0] < kept[-1][1]:
                continue
            kept.append(h)
        return kept

    def analyze(self, text, entities, nlp_artifacts=None):
        return [RecognizerResult(self.ENTITY, s, e, SCORE) for s, e, _ in self.find(text)]
