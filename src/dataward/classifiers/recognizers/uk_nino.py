"""National Insurance number: two prefix letters, six digits, a suffix A-D.

Prefix rules (HMRC): neither letter is D, F, I, Q, U or V; the second is not O; the pairs
BG, GB, KN, NK, NT, TN and ZZ are never issued."""
from __future__ import annotations

import re

from presidio_analyzer import Pattern

from ..checksums import is_valid_nino
from ._base import DatawardPatternRecognizer

class UkNinoRecognizer(DatawardPatternRecognizer):
    """Matched in either case: the prefix rules and shape are strict enough."""

    ENTITY = "UK_NINO"
    FLAGS = re.MULTILINE | re.IGNORECASE
    REQUIRES = re.compile(r"[A-Za-z]{2} ?[0-9]")
    PATTERNS = [Pattern(
        "NINO", r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9](?: ?[0-9]){5} ?[A-D]\b", 0.7)]
    CONTEXT = ["national insurance", "ni number", "nino", "ni no"]

    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_nino(pattern_text)
