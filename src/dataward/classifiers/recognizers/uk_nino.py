"""National Insurance number: two prefix letters, six digits, a suffix A-D.

Prefix rules (HMRC): neither letter is D, F, I, Q, U or V; the second is not O; the pairs
BG, GB, KN, NK, NT, TN and ZZ are never issued."""
from __future__ import annotations

import re

from presidio_analyzer import Pattern

from ._base import DatawardPatternRecognizer, alnum_upper

_BAD_LETTERS = set("DFIQUV")
_BAD_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def is_valid_nino(value: str) -> bool:
    v = alnum_upper(value)
    if len(v) != 9 or not v[2:8].isdigit() or v[8] not in "ABCD":
        return False
    first, second = v[0], v[1]
    if not (first.isalpha() and second.isalpha()):
        return False
    if first in _BAD_LETTERS or second in _BAD_LETTERS or second == "O":
        return False
    return v[:2] not in _BAD_PREFIXES


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
