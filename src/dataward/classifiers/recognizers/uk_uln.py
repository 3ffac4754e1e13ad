"""Unique Learner Number: ten digits, the last a check digit.

Check: sum of the first nine digits weighted 10..2; the check digit is
10 - (sum mod 11); a remainder of 0 gives no valid ULN."""
from __future__ import annotations

import re

from presidio_analyzer import Pattern

from ..checksums import is_valid_uln
from ._base import DatawardPatternRecognizer


class UkUlnRecognizer(DatawardPatternRecognizer):
    ENTITY = "UK_ULN"
    REQUIRES = re.compile(r"[0-9]{10}")
    PATTERNS = [Pattern("ULN", r"(?<![\d-])[1-9][0-9]{9}(?![\d-])", 0.6)]
    CONTEXT = ["uln", "unique learner number", "learner number"]

    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_uln(pattern_text)
