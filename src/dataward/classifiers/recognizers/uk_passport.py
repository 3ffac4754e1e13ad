"""UK passport number: nine digits (older books) or two letters and seven digits.

Nine digits alone are far too common to mean anything, so a match counts only with the
word "passport" shortly before it."""
from __future__ import annotations

from presidio_analyzer import Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from .. import cues
from ._base import DatawardPatternRecognizer

_CUE = cues.PASSPORT
WINDOW = 60


class UkPassportRecognizer(DatawardPatternRecognizer):
    ENTITY = "UK_PASSPORT"
    REQUIRES = _CUE
    PATTERNS = [Pattern("passport", r"(?<![\w-])(?:[0-9]{9}|[A-Z]{2}[0-9]{7})(?![\w-])", 0.6)]
    CONTEXT = ["passport"]

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if _CUE.search(text, max(0, r.start - WINDOW), r.start)]
