"""dataward's own Presidio recognizers, one per file, each validated by its checksum or
rules. ``PATTERN_RECOGNIZERS`` lists the regex-based ones the engine runs through
Presidio's AnalyzerEngine; roster names and special-category terms use Aho-Corasick
automata over the whole text (see ``roster_names`` and ``special_category``)."""
from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        UkUpnRecognizer, UkUlnRecognizer, UkNhsRecognizer, UkNinoRecognizer,
        UkPassportRecognizer, UkPostcodeRecognizer, UkPhoneRecognizer, SchoolEmailRecognizer,
        DateOfBirthRecognizer,
    )

# The recognizer classes are loaded on first use (PEP 562): they import Presidio and spaCy,
# and a process that only needs their names (the scan's read basis, ``special_category``'s
# term lists) does not load them. PATTERN_RECOGNIZER_NAMES is PATTERN_RECOGNIZERS' names in
# its order (a test holds the two equal).
PATTERN_RECOGNIZER_NAMES = (
    "UkUpnRecognizer", "UkUlnRecognizer", "UkNhsRecognizer", "UkNinoRecognizer",
    "UkPassportRecognizer", "UkPostcodeRecognizer", "UkPhoneRecognizer",
    "SchoolEmailRecognizer", "DateOfBirthRecognizer",
)
_HOMES = {
    "UkUpnRecognizer": "uk_upn", "UkUlnRecognizer": "uk_uln", "UkNhsRecognizer": "uk_nhs",
    "UkNinoRecognizer": "uk_nino", "UkPassportRecognizer": "uk_passport",
    "UkPostcodeRecognizer": "uk_postcode", "UkPhoneRecognizer": "uk_phone",
    "SchoolEmailRecognizer": "email", "DateOfBirthRecognizer": "date_of_birth",
}


def __getattr__(name: str) -> Any:
    if name == "PATTERN_RECOGNIZERS":
        value: Any = tuple(__getattr__(n) for n in PATTERN_RECOGNIZER_NAMES)
    elif name in _HOMES:
        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


@lru_cache(maxsize=1024)
def header_entities(header: str) -> tuple[str, ...]:
    """The entities a table header names through a recognizer's context words ("NHS
    Number" -> UK_NHS, "Parent Email" -> EMAIL_ADDRESS), in recognizer order."""
    folded = header.casefold()
    return tuple(cls.ENTITY for cls in __getattr__("PATTERN_RECOGNIZERS") if any(
        re.search(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", folded) for word in cls.CONTEXT))


# Written out (not built from PATTERN_RECOGNIZERS) so type checkers see the exports.
__all__ = [
    "PATTERN_RECOGNIZERS", "PATTERN_RECOGNIZER_NAMES", "DateOfBirthRecognizer", "SchoolEmailRecognizer", "UkNhsRecognizer",
    "UkNinoRecognizer", "UkPassportRecognizer", "UkPhoneRecognizer", "UkPostcodeRecognizer",
    "UkUlnRecognizer", "UkUpnRecognizer", "header_entities",
]
