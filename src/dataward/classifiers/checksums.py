"""The check rules of UK identifiers, as plain functions with no NLP dependency: the
recognizers, the retention planner's MIS readers and the synthetic data all use these."""
from __future__ import annotations

import re

UPN_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S
_NINO_BAD_LETTERS = set("DFIQUV")
_NINO_BAD_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def alnum_upper(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def upn_check_letter(body: str) -> str | None:
    """Check letter of a UPN for the 12 characters after it: weights 2..13, sum mod 23;
    a temporary UPN's last character is a letter, valued by its place in the alphabet."""
    total = 0
    for weight, ch in enumerate(body, start=2):
        if ch.isdigit():
            value = int(ch)
        elif ch in UPN_CHECK_LETTERS and weight == 13:
            value = UPN_CHECK_LETTERS.index(ch)
        else:
            return None
        total += value * weight
    return UPN_CHECK_LETTERS[total % 23]


def is_valid_upn(value: str) -> bool:
    v = alnum_upper(value)
    return (len(v) == 13 and v[0] in UPN_CHECK_LETTERS and v[1:12].isdigit()
            and upn_check_letter(v[1:]) == v[0])


def is_valid_uln(value: str) -> bool:
    """ULN: ten digits; check digit 10 - (sum of the first nine weighted 10..2, mod 11);
    a remainder of 0 gives no valid ULN."""
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) != 10 or digits[0] == 0:
        return False
    remainder = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    return remainder != 0 and digits[9] == 10 - remainder


def is_valid_nhs(value: str) -> bool:
    """NHS number: check = 11 - (weighted sum mod 11), 11 -> 0, 10 -> invalid. (A ULN uses
    10 - remainder, so no number is both.)"""
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == digits[9]


def is_valid_nino(value: str) -> bool:
    """HMRC prefix rules: neither letter D, F, I, Q, U or V; the second not O; never BG,
    GB, KN, NK, NT, TN or ZZ; six digits; suffix A-D."""
    v = alnum_upper(value)
    if len(v) != 9 or not v[2:8].isdigit() or v[8] not in "ABCD":
        return False
    first, second = v[0], v[1]
    if not (first.isalpha() and second.isalpha()):
        return False
    if first in _NINO_BAD_LETTERS or second in _NINO_BAD_LETTERS or second == "O":
        return False
    return v[:2] not in _NINO_BAD_PREFIXES
