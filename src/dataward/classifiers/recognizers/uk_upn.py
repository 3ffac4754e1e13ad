"""Unique Pupil Number: a check letter then 12 characters (LA code, DfE establishment,
year, serial). The last character is a letter in a temporary UPN."""
from __future__ import annotations

import re

from presidio_analyzer import Pattern

from ._base import DatawardPatternRecognizer, alnum_upper

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S


def upn_check_letter(body: str) -> str | None:
    """Check letter for the 12 characters after it: weights 2..13, sum mod 23."""
    total = 0
    for weight, ch in enumerate(body, start=2):
        if ch.isdigit():
            value = int(ch)
        elif ch in CHECK_LETTERS and weight == 13:
            value = CHECK_LETTERS.index(ch)
        else:
            return None
        total += value * weight
    return CHECK_LETTERS[total % 23]


def is_valid_upn(value: str) -> bool:
    v = alnum_upper(value)
    return (len(v) == 13 and v[0] in CHECK_LETTERS and v[1:12].isdigit()
            and upn_check_letter(v[1:]) == v[0])


class UkUpnRecognizer(DatawardPatternRecognizer):
    ENTITY = "UK_UPN"
    REQUIRES = re.compile(r"[A-Z][0-9]{11}")
    PATTERNS = [Pattern("UPN", r"\b[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]\b", 0.7)]
    CONTEXT = ["upn", "unique pupil number", "pupil number"]

    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_upn(pattern_text)
