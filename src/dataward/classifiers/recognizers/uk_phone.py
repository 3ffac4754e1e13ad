"""UK phone numbers (landline and mobile, national or +44 form), validated by the
phonenumbers library's numbering plan for GB.

The plan's patterns are compiled once and a number written in the national (0...) or
plain +44 form is checked against them directly: the same rule as
``phonenumbers.is_valid_number(phonenumbers.parse(text, "GB"))`` (a test holds the two
together) at a tenth of the cost, which matters in an export of one number per row.
Any other way of writing a number goes through ``phonenumbers.parse``."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata
from presidio_analyzer import Pattern

from ._base import DatawardPatternRecognizer

_REGEX = r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?\(?|\(?0)[1-9][0-9()\s-]{7,13}[0-9](?![\w-])"


class UkPhoneRecognizer(DatawardPatternRecognizer):
    ENTITY = "PHONE_NUMBER"
    REQUIRES = re.compile(r"(?:\+44|(?<![0-9])0)\s?\(?[1-9][0-9]")
    PATTERNS = [Pattern("UK phone", _REGEX, 0.6)]
    CONTEXT = ["phone", "tel", "telephone", "mobile", "contact", "call"]

    def validate_result(self, pattern_text: str) -> bool:
        nsn = _national(pattern_text)
        if nsn is not None:
            return _valid_national(nsn)
        return _parse(pattern_text) is not None

    @staticmethod
    def normalise(value: str) -> str:
        nsn = _national(value)
        if nsn is not None and _valid_national(nsn):
            return "+44" + nsn  # E.164
        number = _parse(value)
        return value if number is None else phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.E164)


# National form (0 then digits) or +44 then digits, with spaces and hyphens only.
_SIMPLE = re.compile(r"(?:\+44[ -]?(?=[1-9])|0(?=[1-9]))[0-9][0-9 -]*[0-9]")
_DROP = str.maketrans("", "", " -+")


def _national(text: str) -> str | None:
    """The national significant number of a simply written UK number, else None."""
    text = text.strip()
    if not _SIMPLE.fullmatch(text):
        return None
    digits = text.translate(_DROP)
    return digits[2:] if text.startswith("+") else digits[1:]


Desc = tuple[frozenset[int], re.Pattern[str]]
Plan = tuple[re.Pattern[str] | None, Desc | None, list[Desc]]


def _desc(desc: Any) -> Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


def _plans() -> list[Plan]:
    """(leading digits, general description, type descriptions) of each region on +44."""
    out = []
    for region in phonenumbers.region_codes_for_country_code(44):
        md = PhoneMetadata.metadata_for_region(region)
        if md is None:
            continue
        # Any type will do, so the common ones are tried first.
        types = [d for d in (_desc(getattr(md, name)) for name in (
            "mobile", "fixed_line", "premium_rate", "toll_free", "shared_cost", "voip",
            "personal_number", "pager", "uan", "voicemail")) if d is not None]
        leading = re.compile(md.leading_digits) if md.leading_digits else None
        out.append((leading, _desc(md.general_desc), types))
    return out


_PLANS = _plans()
# The same plans as pattern text, for checking a column of numbers at once
# (``classifiers.bulk_shapes``): (leading digits, general description, types).
TextDesc = tuple[frozenset[int], str]
PLANS: list[tuple[str | None, TextDesc | None, list[TextDesc]]] = [
    (leading.pattern if leading else None,
     None if general is None else (general[0], general[1].pattern),
     [(sizes, rx.pattern) for sizes, rx in types]) for leading, general, types in _PLANS]


def _matches(nsn: str, desc: Desc) -> bool:
    lengths, rx = desc
    return (not lengths or len(nsn) in lengths) and rx.fullmatch(nsn) is not None


def _type_known(nsn: str, general: Desc | None, types: list[Desc]) -> bool:
    return general is not None and _matches(nsn, general) and any(_matches(nsn, d) for d in types)


@lru_cache(maxsize=65536)  # validate, then normalise: each number is checked once
def _valid_national(nsn: str) -> bool:
    """phonenumbers' is_valid_number for +44 ``nsn``: the number belongs to the first
    region (GB, then the Crown dependencies) whose leading digits or types it matches,
    and is valid when that region knows its type."""
    for leading, general, types in _PLANS:
        if leading is not None and leading.match(nsn):
            return _type_known(nsn, general, types)
        if _type_known(nsn, general, types):
            return True
    return False


valid_national = _valid_national  # for the bulk checks (classifiers.bulk_shapes)


@lru_cache(maxsize=256)
def _parse(text: str) -> phonenumbers.PhoneNumber | None:
    """The valid GB number ``text`` writes, or None (cached: validate, then normalise)."""
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None
