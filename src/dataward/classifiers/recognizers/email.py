"""E-mail addresses, school ones (name@oakfield.sch.uk) included: the domain may have
any number of labels, and the top level is two or more letters."""
from __future__ import annotations

import re

from presidio_analyzer import Pattern

from ._base import DatawardPatternRecognizer

_REGEX = (r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+'-]{0,62}[A-Za-z0-9_'-])?"
          r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b")


class SchoolEmailRecognizer(DatawardPatternRecognizer):
    ENTITY = "EMAIL_ADDRESS"
    REQUIRES = re.compile("@")
    PATTERNS = [Pattern("email", _REGEX, 0.8)]
    CONTEXT = ["email", "e-mail", "mail"]

    def validate_result(self, pattern_text: str) -> bool:
        local, _, domain = pattern_text.rpartition("@")
        return ".." not in local and ".." not in domain and not domain.startswith("-")

    @staticmethod
    def normalise(value: str) -> str:
        return value.strip().lower()
