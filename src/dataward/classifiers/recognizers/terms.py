"""One Aho-Corasick pass over case-folded text for every word list at once (roster names
and special-category terms): the pass costs the same whatever the lists' sizes."""
from __future__ import annotations

from collections.abc import Callable, Iterable

import ahocorasick

Boundary = Callable[[str], bool]


class TermMatcher:
    def __init__(self) -> None:
        self.automaton = ahocorasick.Automaton()
        self._kinds: list[tuple[str, Boundary]] = []

    def add(self, kind: str, is_word_char: Boundary,
            entries: Iterable[tuple[str, object]]) -> TermMatcher:
        """Add (folded word, payload) entries of one kind with its word-character rule."""
        k = len(self._kinds)
        self._kinds.append((kind, is_word_char))
        for word, payload in entries:
            if word:
                self.automaton.add_word(word, (k, len(word), payload))
        return self

    def build(self) -> TermMatcher:
        if len(self.automaton):
            self.automaton.make_automaton()
        return self

    def find(self, folded: str) -> dict[str, list[tuple[int, int, object]]]:
        """{kind: [(start, end, payload)]} of whole-word hits."""
        hits: dict[str, list[tuple[int, int, object]]] = {k: [] for k, _ in self._kinds}
        if not len(self.automaton):
            return hits
        n = len(folded)
        for end_index, (k, length, payload) in self.automaton.iter(folded):
            kind, is_word = self._kinds[k]
            start, end = end_index - length + 1, end_index + 1
            if (start > 0 and is_word(folded[start - 1])) or (end < n and is_word(folded[end])):
                continue
            hits[kind].append((start, end, payload))
        return hits
