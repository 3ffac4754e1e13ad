"""Pupils' names in file and folder names (school policies forbid them in images' names).

Names are found with the Classifier's roster automaton. In a path, ``_ . / + \\`` separate
words, and a hyphen may too (``amelia-khan.jpg``) or may not (``Smith-Jones``): both ways
are tried. Findings carry a masked preview and a fingerprint, like any other."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .fingerprint import mask

if TYPE_CHECKING:  # the engine loads Presidio: only once an item is read
    from .engine import Classifier, Finding

_SEPARATORS = str.maketrans({c: " " for c in "_./+\\"})


def path_words(path: str) -> str:
    """The path as the words ``names_in_path`` reads (both readings of a hyphen)."""
    spaced = path.translate(_SEPARATORS)
    return f"{spaced}\n{spaced.replace('-', ' ')}"


def names_in_path(classifier: Classifier, path: str) -> list[Finding]:
    """One PERSON finding per roster name in ``path`` (relative to its share or archive)."""
    from .engine import Finding
    from .recognizers.roster_names import SCORE

    spaced = path.translate(_SEPARATORS)
    last = path.rfind("/") + 1
    seen: set[tuple[int, str]] = set()
    findings: list[Finding] = []
    for text in (spaced, spaced.replace("-", " ")):
        for start, end, canon in classifier.names.find(text):
            if (start, canon) in seen:
                continue
            seen.add((start, canon))
            where = "file name" if start >= last else "folder name"
            findings.append(Finding("PERSON", where, -1, SCORE, "RosterNameRecognizer",
                                    mask("PERSON", text[start:end]),
                                    classifier.fingerprint("PERSON", canon)))
    return findings
