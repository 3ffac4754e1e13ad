"""Unique Pupil Number: a check letter then 12 characters (LA code, DfE establishment,
year, serial). The last character is a letter in a temporary UPN."""
from __future__ import annotations

import re

from presidio_analyzer import Pattern

from ..checksums import UPN_CHECK_LETTERS, is_valid_upn, valid_upns
from ._base import DatawardPatternRecognizer

CHECK_LETTERS = UPN_CHECK_LETTERS


class UkUpnRecognizer(DatawardPatternRecognizer):
    ENTITY = "UK_UPN"
    REQUIRES = re.compile(r"[A-Z][0-9]{11}")
    PATTERNS = [Pattern("UPN", r"\b[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]\b", 0.7)]
    CONTEXT = ["upn", "unique pupil number", "pupil number"]

    def validate_many(self, values: list[str]) -> list[bool | None]:
        return list(valid_upns(values))

    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_upn(pattern_text)
