"""dataward's own Presidio recognizers, one per file, each validated by its checksum or
rules. ``PATTERN_RECOGNIZERS`` lists the regex-based ones the engine runs through
Presidio's AnalyzerEngine; roster names and special-category terms use Aho-Corasick
automata over the whole text (see ``roster_names`` and ``special_category``)."""
from __future__ import annotations

import re
from functools import lru_cache

from .date_of_birth import DateOfBirthRecognizer
from .email import SchoolEmailRecognizer
from .uk_nhs import UkNhsRecognizer
from .uk_nino import UkNinoRecognizer
from .uk_passport import UkPassportRecognizer
from .uk_phone import UkPhoneRecognizer
from .uk_postcode import UkPostcodeRecognizer
from .uk_uln import UkUlnRecognizer
from .uk_upn import UkUpnRecognizer

PATTERN_RECOGNIZERS = (
    UkUpnRecognizer, UkUlnRecognizer, UkNhsRecognizer, UkNinoRecognizer, UkPassportRecognizer,
    UkPostcodeRecognizer, UkPhoneRecognizer, SchoolEmailRecognizer, DateOfBirthRecognizer,
)



@lru_cache(maxsize=1024)
def header_entities(header: str) -> tuple[str, ...]:
    """The entities a table header names through a recognizer's context words ("NHS
    Number" -> UK_NHS, "Parent Email" -> EMAIL_ADDRESS), in recognizer order."""
    folded = header.casefold()
    return tuple(cls.ENTITY for cls in PATTERN_RECOGNIZERS if any(
        re.search(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", folded) for word in cls.CONTEXT))


# Written out (not built from PATTERN_RECOGNIZERS) so type checkers see the exports.
__all__ = [
    "PATTERN_RECOGNIZERS", "DateOfBirthRecognizer", "SchoolEmailRecognizer", "UkNhsRecognizer",
    "UkNinoRecognizer", "UkPassportRecognizer", "UkPhoneRecognizer", "UkPostcodeRecognizer",
    "UkUlnRecognizer", "UkUpnRecognizer", "header_entities",
]
