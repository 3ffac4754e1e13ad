"""Special-category and sensitive terms (UK GDPR art. 9, and what schools treat the same
way): health, SEN/EHCP, safeguarding, free school meals, ethnicity, religion.

A term is a finding about the document, not a value about a person: its preview is the
category, never the word. Terms are whole words, matched case-insensitively in one
Aho-Corasick pass."""
from __future__ import annotations

from ...connectors.names import fold_text
from .terms import TermMatcher

TERMS: dict[str, tuple[str, ...]] = {
    "health": (
        "asthma", "inhaler", "epilepsy", "epileptic", "seizure", "seizures", "diabetes",
        "diabetic", "insulin", "anaphylaxis", "epipen", "epi-pen", "nut allergy",
        "allergic reaction", "medical condition", "medication", "care plan", "healthcare plan",
        "individual healthcare plan", "ihp", "eating disorder", "self-harm", "self harm",
        "camhs", "mental health", "depression", "anxiety disorder", "cystic fibrosis",
        "sickle cell", "hiv", "pregnant", "pregnancy",
    ),
    "sen": (
        "ehcp", "education health and care plan", "education, health and care plan",
        "sen support", "senco", "special educational needs", "dyslexia", "dyslexic",
        "dyspraxia", "adhd", "autism", "autistic", "asd", "speech and language",
        "statement of sen", "one-page profile", "pupil passport", "access arrangements",
    ),
    "safeguarding": (
        "safeguarding concern", "child protection", "cp plan", "child in need", "cin plan",
        "looked after child", "lac", "cla", "lado", "mash referral", "mash", "social worker",
        "social care referral", "section 47", "s47", "domestic abuse", "domestic violence",
        "neglect", "sexual abuse", "physical abuse", "fgm", "prevent referral",
        "early help", "cpoms", "my concern",
    ),
    "fsm": ("free school meals", "fsm", "pupil premium", "ever6", "ever 6"),
    "ethnicity": (
        "ethnicity", "ethnic origin", "white british", "black caribbean", "black african",
        "gypsy roma", "traveller of irish heritage", "mixed white and", "eal",
    ),
    "religion": ("muslim", "jewish", "hindu", "sikh", "buddhist",
                 "jehovah's witness", "religious observance"),
}


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class SpecialCategoryRecognizer:
    ENTITY = "SPECIAL_CATEGORY"
    SCORE = 0.6

    def __init__(self, extra_terms: dict[str, list[str]] | None = None) -> None:
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

    def entries(self):
        """(folded term, category) pairs."""
        for cat, words in self.terms.items():
            for w in words:
                yield fold_text(w), cat

    def find(self, folded: str) -> list[tuple[int, int, str]]:
        """(start, end, category) of each whole-word term in case-folded text."""
        return self.matcher.find(folded)[self.ENTITY]
