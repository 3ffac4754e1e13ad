"""The check rules of UK identifiers, as plain functions with no NLP dependency: the
recognizers, the retention planner's MIS readers and the synthetic data all use these."""
from __future__ import annotations

import re

import numpy as np

UPN_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S
_NINO_BAD_LETTERS = set("DFIQUV")
_NINO_BAD_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


_NOT_ALNUM = str.maketrans("", "", "".join(
    chr(c) for c in range(128) if not chr(c).isalnum()))


def alnum_upper(value: str) -> str:
    if value.isascii():  # one C call instead of a regex substitution
        return value.translate(_NOT_ALNUM).upper()
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


_NOT_ALNUM_NOR_NEWLINE = str.maketrans("", "", "".join(
    chr(c) for c in range(128) if not chr(c).isalnum() and chr(c) != "\n"))


def alnum_upper_many(values: list[str]) -> list[str]:
    """``alnum_upper`` of each value: for a column of ASCII values without line breaks,
    one translation of them all joined."""
    joined = "\n".join(values)
    if values and joined.isascii() and joined.count("\n") == len(values) - 1:
        return joined.translate(_NOT_ALNUM_NOR_NEWLINE).upper().split("\n")
    return [alnum_upper(v) for v in values]


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


# ---- the same checks over a column of values at once (numpy), for dense exports -------
# Each takes values already of the identifier's written shape (the recognizer's pattern
# matched them whole) and gives what the one-value function above gives for each.

def _digit_matrix(values: list[str], width: int, drop: str = "") -> np.ndarray:
    """The characters of ``values`` as an (n, width) array of bytes."""
    joined = "".join(values).translate(str.maketrans("", "", drop)) if drop else "".join(values)
    raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    return raw.reshape(len(values), width)


_UPN_VALUE = np.full(256, -1, dtype=np.int64)
_UPN_VALUE[ord("0"):ord("9") + 1] = np.arange(10)
_UPN_LAST = _UPN_VALUE.copy()  # the last character may also be a check-alphabet letter
for _i, _ch in enumerate(UPN_CHECK_LETTERS):
    _UPN_LAST[ord(_ch)] = _i
_UPN_LETTER_CODES = np.frombuffer(UPN_CHECK_LETTERS.encode(), dtype=np.uint8)


def valid_upns(values: list[str]) -> list[bool]:
    """``is_valid_upn`` of each value (13 ASCII characters each)."""
    if not values:
        return []
    return [bool(x) for x in valid_upn_rows(_digit_matrix(values, 13))]


def valid_upn_rows(m: np.ndarray) -> np.ndarray:
    """``is_valid_upn`` of each row of an (n, 13) array of a UPN's ASCII codes."""
    body = _UPN_VALUE[m[:, 1:12]]
    last = _UPN_LAST[m[:, 12]]
    total = body @ np.arange(2, 13) + last * 13
    ok: np.ndarray = (body.min(axis=1, initial=9) >= 0) & (last >= 0) & (
        _UPN_LETTER_CODES[total % 23] == m[:, 0])
    return ok


def valid_nhs_numbers(values: list[str]) -> list[bool]:
    """``is_valid_nhs`` of each value (ten digits each, spaces or hyphens between)."""
    if not values:
        return []
    return [bool(x) for x in valid_nhs_rows(_digit_matrix(values, 10, " -"))]


def valid_nhs_rows(m: np.ndarray) -> np.ndarray:
    """``is_valid_nhs`` of each row of an (n, 10) array of ASCII digit codes."""
    d = m.astype(np.int64) - ord("0")
    check = (11 - (d[:, :9] @ np.arange(10, 1, -1)) % 11) % 11
    same = (d == d[:, :1]).all(axis=1)
    ok: np.ndarray = (check != 10) & (check == d[:, 9]) & ~same
    return ok


def valid_uln_rows(m: np.ndarray) -> np.ndarray:
    """``is_valid_uln`` of each row of an (n, 10) array of ASCII digit codes."""
    d = m.astype(np.int64) - ord("0")
    remainder = (d[:, :9] @ np.arange(10, 1, -1)) % 11
    ok: np.ndarray = (d[:, 0] != 0) & (remainder != 0) & (d[:, 9] == 10 - remainder)
    return ok
