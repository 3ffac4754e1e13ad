"""Pupils' names in file and folder names (school policies forbid them in images' names).

Names are found with the Classifier's roster automaton. In a path, ``_ . / + \\`` separate
words, and a hyphen may too (``amelia-khan.jpg``) or may not (``Smith-Jones``): both ways
are tried. Findings carry a masked preview and a fingerprint, like any other."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .fingerprint import mask

if TYPE_CHECKING:  # the engine loads Presidio: only once an item is read
    from ..connectors.roster import Roster
    from .engine import Classifier, Finding
    from .recognizers.roster_names import RosterNameRecognizer

_SEPARATORS = str.maketrans({c: " " for c in "_./+\\"})


def name_spans(names: RosterNameRecognizer, path: str) -> list[tuple[int, int, str, str]]:
    """(start, end, canonical name, name as written with separators as spaces) of each
    roster name in ``path``; offsets are the path's own (separators become spaces one for
    one)."""
    spaced = path.translate(_SEPARATORS)
    seen: set[tuple[int, str]] = set()
    spans: list[tuple[int, int, str, str]] = []
    for text in (spaced, spaced.replace("-", " ")):
        for start, end, canon in names.find(text):
            if (start, canon) not in seen:
                seen.add((start, canon))
                spans.append((start, end, canon, text[start:end]))
    return spans


def path_words(path: str) -> str:
    """The path as the words ``names_in_path`` reads (both readings of a hyphen)."""
    spaced = path.translate(_SEPARATORS)
    return f"{spaced}\n{spaced.replace('-', ' ')}"


def names_in_path(classifier: Classifier, path: str) -> list[Finding]:
    """One PERSON finding per roster name in ``path`` (relative to its share or archive)."""
    from .engine import Finding
    from .recognizers.roster_names import SCORE

    last = path.rfind("/") + 1
    findings: list[Finding] = []
    for start, _end, canon, written in name_spans(classifier.names, path):
        where = "file name" if start >= last else "folder name"
        findings.append(Finding("PERSON", where, -1, SCORE, "RosterNameRecognizer",
                                mask("PERSON", written),
                                classifier.fingerprint("PERSON", canon)))
    return findings


class RosterPaths:
    """Whether a path names someone on the roster, found with the roster's own name
    automaton: the scanning process asks this of moved files without building the
    Classifier (Presidio's registry, the pattern recognizers, an NER model), which only
    the processes that read items need."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self._names: RosterNameRecognizer | None = None

    def names_someone(self, path: str) -> bool:
        if not self.roster.people:
            return False
        if self._names is None:
            from .recognizers.roster_names import RosterNameRecognizer
            self._names = RosterNameRecognizer(self.roster)
        return bool(name_spans(self._names, path))
