"""UK postcode, in the six formats plus GIR 0AA, with the letters each position allows."""
from __future__ import annotations

import re

from presidio_analyzer import Pattern

from ._base import DatawardPatternRecognizer, alnum_upper, alnum_upper_many

_INWARD = r"\s?[0-9][ABD-HJLNP-UW-Z]{2}"
_REGEX = (
    r"\b(?:GIR\s?0AA"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]?" + _INWARD +
    r"|[A-PR-UWYZ][0-9]{2}" + _INWARD +
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]?" + _INWARD +
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{2}" + _INWARD + r")\b"
)


def normalise_postcode(value: str) -> str:
    v = alnum_upper(value)
    return f"{v[:-3]} {v[-3:]}" if len(v) >= 5 else v


class UkPostcodeRecognizer(DatawardPatternRecognizer):
    """Matched in either case: forms are often typed in lower case ("eh12ng")."""

    ENTITY = "UK_POSTCODE"
    FLAGS = re.MULTILINE | re.IGNORECASE
    REQUIRES = re.compile(r"[0-9][A-Za-z]{2}")
    PATTERNS = [Pattern("postcode", _REGEX, 0.5)]
    CONTEXT = ["postcode", "post code", "address"]

    @staticmethod
    def normalise(value: str) -> str:
        return normalise_postcode(value)

    def normalise_many(self, values: list[str]) -> list[str]:
        return [f"{v[:-3]} {v[-3:]}" if len(v) >= 5 else v for v in alnum_upper_many(values)]
