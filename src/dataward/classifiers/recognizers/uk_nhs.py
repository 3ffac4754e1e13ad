"""NHS number: ten digits, often written 3-3-4, the last a modulus 11 check digit.

Check: sum of the first nine digits weighted 10..2; check = 11 - (sum mod 11), 11 -> 0,
10 -> invalid. (A ULN uses 10 - remainder, so no number is both.)"""
from __future__ import annotations

import re

from presidio_analyzer import Pattern

from ..checksums import is_valid_nhs, valid_nhs_numbers
from ._base import DatawardPatternRecognizer


class UkNhsRecognizer(DatawardPatternRecognizer):
    ENTITY = "UK_NHS"
    REQUIRES = re.compile(r"[0-9]{3}[- ]?[0-9]{3}[- ]?[0-9]{4}")
    PATTERNS = [
        Pattern("NHS (spaced)", r"(?<![\d-])[0-9]{3}[ -][0-9]{3}[ -][0-9]{4}(?![\d-])", 0.7),
        Pattern("NHS (plain)", r"(?<![\d-])[0-9]{10}(?![\d-])", 0.5),
    ]
    CONTEXT = ["nhs", "national health service", "health number", "nhs no"]

    def validate_many(self, values: list[str]) -> list[bool | None]:
        return list(valid_nhs_numbers(values))

    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_nhs(pattern_text)
