"""Special-category and sensitive terms (UK GDPR art. 9, and what schools treat the same
way): health, SEN/EHCP, safeguarding, free school meals, ethnicity, religion.

The lexicon is ``data/special-category-terms.yaml``: the SEN, ethnicity and religion
lists follow the DfE's code sets (SEN type and provision, CBDS ethnicity and religion
codes), cited in the file. Role names that contain a term ("SENCo", "designated
safeguarding lead") are listed there as not terms: the longest match wins, so a term
inside one is not a finding.

A term is a finding about the document, not a value about a person: its preview is the
category, never the word. Terms are whole words, matched case-insensitively in one
Aho-Corasick pass; of overlapping terms the longest counts, once."""
from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

import yaml

from .terms import TermMatcher

NOT_A_TERM = ""  # the category of role names: matched so that they win, then dropped


def _load() -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    raw = yaml.safe_load(resources.files("dataward").joinpath(
        "data/special-category-terms.yaml").read_text("utf-8"))
    terms = {cat: tuple(str(w) for w in words) for cat, words in raw["terms"].items()}
    return terms, tuple(str(w) for w in raw.get("not_terms", ()))


# {category: terms} and the role names that are not terms, from the data file.
TERMS, NOT_TERMS = _load()


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class SpecialCategoryRecognizer:
    ENTITY = "SPECIAL_CATEGORY"
    SCORE = 0.6

    def __init__(self, extra_terms: dict[str, list[str]] | None = None) -> None:
        self.not_terms = NOT_TERMS
        self.terms = {k: list(v) for k, v in TERMS.items()}
        for cat, words in (extra_terms or {}).items():
            self.terms.setdefault(cat, []).extend(words)
        self._matcher: TermMatcher | None = None

    @property
    def matcher(self) -> TermMatcher:
        """Built on first use (the engine folds these terms into its own automaton)."""
        if self._matcher is None:
            self._matcher = TermMatcher().add(self.ENTITY, is_word_char, self.entries()).build()
        return self._matcher

    def entries(self) -> Iterator[tuple[str, str]]:
        """(folded term, category) pairs; role names with category ``NOT_A_TERM``."""
        for word in self.not_terms:
            yield word.casefold(), NOT_A_TERM
        for cat, words in self.terms.items():
            for w in words:
                yield w.casefold(), cat

    @staticmethod
    def resolve(hits: list[tuple[int, int, object]]) -> list[tuple[int, int, str]]:
        """The longest of overlapping hits, without role names."""
        hits = sorted(hits, key=lambda h: (h[0], -(h[1] - h[0])))
        kept: list[tuple[int, int, object]] = []
        for h in hits:
            if kept and h[0] < kept[-1][1]:
                if h[1] - h[0] > kept[-1][1] - kept[-1][0]:
                    kept[-1] = h
                continue
            kept.append(h)
        return [(s, e, str(cat)) for s, e, cat in kept if cat != NOT_A_TERM]

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, category) of each whole-word term in ``text``."""
        return self.resolve(self.matcher.find_in(text)[self.ENTITY])
