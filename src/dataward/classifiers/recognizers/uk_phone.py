"""UK phone numbers (landline and mobile, national or +44 form), validated by the
phonenumbers library's numbering plan for GB."""
from __future__ import annotations

import phonenumbers
from presidio_analyzer import Pattern

from ._base import DatawardPatternRecognizer

_REGEX = r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?\(?|\(?0)[1-9][0-9()\s-]{7,13}[0-9](?![\w-])"


class UkPhoneRecognizer(DatawardPatternRecognizer):
    ENTITY = "PHONE_NUMBER"
    PATTERNS = [Pattern("UK phone", _REGEX, 0.6)]
    CONTEXT = ["phone", "tel", "telephone", "mobile", "contact", "call"]

    def validate_result(self, pattern_text: str) -> bool:
        try:
            number = phonenumbers.parse(pattern_text, "GB")
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_valid_number(number)

    @staticmethod
    def normalise(value: str) -> str:
        try:
            return phonenumbers.format_number(phonenumbers.parse(value, "GB"),
                                              phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            return value
