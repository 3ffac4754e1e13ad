"""One Aho-Corasick pass over case-folded text for every word list at once (roster names
and special-category terms): the pass costs the same whatever the lists' sizes.

Before the pass the text is folded: case-folded, the typographic apostrophe (U+2019) read
as ``'`` (Word writes ``O’Brien``), and any run of white space (tab, line break,
no-break space, two spaces) read as one space, so a forename and surname split by a
table cell or a justified line are still one name. Hits are mapped back to offsets in
the original text."""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable

import ahocorasick

Boundary = Callable[[str], bool]

# Same-length replacements: every white-space character becomes a space, ’ becomes '.
# str.replace per character runs at memory speed; str.translate with a table falls to a
# slow path on any non-ASCII text.
_ONE_CHAR = tuple((c, " ") for c in "\t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003"
                  "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
                  ) + (("\u2019", "'"),)
_SPACE_RUN = re.compile(r"  +")


def fold(text: str) -> str:
    """Case-folded text of the same length (offsets stay valid), ’ as ', spaces as ' '."""
    folded = text.casefold()
    if len(folded) != len(text):
        folded = text.lower()
    for char, replacement in _ONE_CHAR:
        if char in folded:
            folded = folded.replace(char, replacement)
    return folded


class Folded:
    """``text`` folded with runs of spaces collapsed to one; ``original`` maps an offset
    in the folded text back to the original text."""

    def __init__(self, text: str) -> None:
        folded = fold(text)
        self._breaks: list[int] = [0]
        self._shift: list[int] = [0]
        if "  " not in folded:
            self.text = folded
            return
        removed = 0
        for m in _SPACE_RUN.finditer(folded):
            s, e = m.span()
            # The run's first space stays; what followed it moves back by the rest.
            self._breaks.append(s + 1 - removed)
            removed += e - s - 1
            self._shift.append(removed)
        self.text = _SPACE_RUN.sub(" ", folded)

    def original(self, offset: int) -> int:
        return offset + self._shift[bisect.bisect_right(self._breaks, offset) - 1]

    def original_end(self, end: int) -> int:
        return self.original(end - 1) + 1 if end > 0 else 0


def _possessive_end(folded: str, end: int, is_word: Boundary) -> bool:
    """A name followed by a possessive: ``O'Connor's``, ``James'`` (``’`` is folded)."""
    n = len(folded)
    if folded[end] != "'":
        return False
    after = end + 2 if folded.startswith("'s", end) else end + 1
    return after >= n or not is_word(folded[after])


class TermMatcher:
    def __init__(self) -> None:
        self.automaton = ahocorasick.Automaton()
        self._kinds: list[tuple[str, Boundary, bool]] = []

    def add(self, kind: str, is_word_char: Boundary,
            entries: Iterable[tuple[str, object]], possessive: bool = False) -> TermMatcher:
        """Add (folded word, payload) entries of one kind with its word-character rule;
        ``possessive``: a word may be followed by ``'s`` or ``'`` (names)."""
        k = len(self._kinds)
        self._kinds.append((kind, is_word_char, possessive))
        for word, payload in entries:
            word = " ".join(fold(word).split())
            if word:
                self.automaton.add_word(word, (k, len(word), payload))
        return self

    def build(self) -> TermMatcher:
        if len(self.automaton):
            self.automaton.make_automaton()
        return self

    def find(self, folded: str) -> dict[str, list[tuple[int, int, object]]]:
        """{kind: [(start, end, payload)]} of whole-word hits in already folded text."""
        hits: dict[str, list[tuple[int, int, object]]] = {k: [] for k, _, _ in self._kinds}
        if not len(self.automaton):
            return hits
        n = len(folded)
        for end_index, (k, length, payload) in self.automaton.iter(folded):
            kind, is_word, possessive = self._kinds[k]
            start, end = end_index - length + 1, end_index + 1
            if start > 0 and is_word(folded[start - 1]):
                continue
            if end < n and is_word(folded[end]) and not (
                    possessive and _possessive_end(folded, end, is_word)):
                continue
            hits[kind].append((start, end, payload))
        return hits

    def find_in(self, text: str) -> dict[str, list[tuple[int, int, object]]]:
        """Like ``find`` on raw text: folds it, and gives offsets in ``text``."""
        folded = Folded(text)
        hits = self.find(folded.text)
        if len(folded._breaks) == 1:
            return hits
        return {kind: [(folded.original(s), folded.original_end(e), p) for s, e, p in found]
                for kind, found in hits.items()}
