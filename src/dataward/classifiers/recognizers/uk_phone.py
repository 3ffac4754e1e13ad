"""UK phone numbers (landline and mobile, national or +44 form), validated by the
phonenumbers library's numbering plan for GB."""
from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from presidio_analyzer import Pattern

from ._base import DatawardPatternRecognizer

_REGEX = r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?\(?|\(?0)[1-9][0-9()\s-]{7,13}[0-9](?![\w-])"


class UkPhoneRecognizer(DatawardPatternRecognizer):
    ENTITY = "PHONE_NUMBER"
    REQUIRES = re.compile(r"(?:\+44|(?<![0-9])0)\s?\(?[1-9][0-9]")
    PATTERNS = [Pattern("UK phone", _REGEX, 0.6)]
    CONTEXT = ["phone", "tel", "telephone", "mobile", "contact", "call"]

    def validate_result(self, pattern_text: str) -> bool:
        return _parse(pattern_text) is not None

    @staticmethod
    def normalise(value: str) -> str:
        number = _parse(value)
        return value if number is None else phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=256)
def _parse(text: str):
    """The valid GB number ``text`` writes, or None (cached: validate, then normalise)."""
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None
