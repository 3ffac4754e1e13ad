"""dataward's own Presidio recognizers, one per file, each validated by its checksum or
rules. ``PATTERN_RECOGNIZERS`` lists the regex-based ones the engine runs through
Presidio's AnalyzerEngine; roster names and special-category terms use Aho-Corasick
automata over the whole text (see ``roster_names`` and ``special_category``)."""
from __future__ import annotations

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

__all__ = [c.__name__ for c in PATTERN_RECOGNIZERS] + ["PATTERN_RECOGNIZERS"]
