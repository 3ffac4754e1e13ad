"""Identifiers in recognised text, mended where OCR is known to slip and a check digit
proves the mending right (the text keeps its length, so word offsets still line up).

- **A space inside a number**: Tesseract cuts a long run of digits in two
  ("V3077847 16649"). Up to three neighbouring tokens are joined when the joined value
  passes a UPN, NHS number or ULN check; the spaces move to the end ("V307784716649  ").
  An NHS number written 3-3-4 keeps its spaces.
- **Letters read for digits** in those values: ``O``/``o``/``D`` for 0, ``I``/``l``/``|``
  for 1, ``S`` for 5, ``B`` for 8, ``Z`` for 2, ``G`` for 6; and the other way round for a
  UPN's check letter (``2494298317047`` is ``Z494298317047``). Accepted only when the check
  passes: a misread digit (``7`` for ``1``) still fails it, exactly as in typed text.
- **Postcodes** have no check digit, so only where the format allows nothing else: a
  letter that looks like a digit in the place of the outward code's first digit or the
  inward code's digit (``Ml 1AE`` is ``M1 1AE``) and a digit in the place of the area's
  letters (``0X1 2JD``).
"""
from __future__ import annotations

import itertools
import re

from .checksums import UPN_CHECK_LETTERS, is_valid_nhs, is_valid_uln, is_valid_upn

AS_DIGIT = str.maketrans("OoDIl|SBZG", "0001115826")
AS_LETTER = {"2": "Z", "8": "B", "6": "G", "4": "A"}
MAX_TOKENS = 3
# A token that may be part of a number: mostly digits.
_TOKEN = re.compile(r"[0-9A-Za-z|]+")
_POSTCODE = re.compile(
    r"(?<![0-9A-Za-z])([A-Z0]{1,2})([0-9OIl|])([0-9A-Z]?) ([0-9OIl|])([A-Z]{2})(?![0-9A-Za-z])")


def _as_number(raw: str) -> str | None:
    """The value as an identifier that passes its check, or None."""
    if sum(c.isdigit() for c in raw) < 0.7 * len(raw):
        return None
    if len(raw) == 10:
        digits = raw.translate(AS_DIGIT)
        if digits.isdigit() and (is_valid_nhs(digits) or is_valid_uln(digits)):
            return digits
    elif len(raw) == 13:
        head = raw[0] if raw[0] in UPN_CHECK_LETTERS else AS_LETTER.get(raw[0], raw[0])
        body = raw[1:12].translate(AS_DIGIT) + raw[12]
        value = head + body
        if is_valid_upn(value):
            return value
    return None


def repair_values(text: str) -> str:
    """``text`` with identifiers mended as the module says; the same length."""
    chars = list(text)
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    i = 0
    while i < len(tokens):
        done = 0
        for n in range(1, MAX_TOKENS + 1):
            group = tokens[i:i + n]
            if len(group) < n or any(text[a:b] != " " for (_s, a), (b, _e) in itertools.pairwise(group)):
                break
            start, end = group[0][0], group[-1][1]
            raw = "".join(text[s:e] for s, e in group)
            value = _as_number(raw)
            if value == raw and n == 1:
                break  # already right
            if value is None:
                continue
            spaced = text[start:end]
            if n == 3 and [e - s for s, e in group] == [3, 3, 4]:
                mended = f"{value[:3]} {value[3:6]} {value[6:]}"   # an NHS number's 3-3-4
            else:
                mended = value + " " * (len(spaced) - len(value))
            chars[start:end] = mended
            done = n
            break
        i += done or 1
    out = "".join(chars)
    return _POSTCODE.sub(_postcode, out)


def _postcode(m: re.Match[str]) -> str:
    area, digit, rest, inward, letters = m.groups()
    if not area.strip("0"):
        return m.group(0)
    return (area.replace("0", "O") + digit.translate(AS_DIGIT) + rest + " "
            + inward.translate(AS_DIGIT) + letters)
