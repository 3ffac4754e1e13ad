"""Identifier cells accepted in bulk, over Arrow columns: RE2 (``pyarrow.compute``) for
the shapes, numpy for the checks, the numbering plan's own patterns for phone numbers.

``bulk_accepted(entity, cells)`` says which cells the entity's recognizer would take,
as ``column_scores`` does, and with which score. It only ever says yes exactly: each
shape here is a plain-ASCII subset of the recognizer's own pattern (whole cell; the
lookarounds and ``\\b`` at a cell's ends hold by construction), and each check is the
recognizer's check (the same rules as ``checksums``, ``parse_date``, ``_valid_national``).
A cell it does not accept (another spelling, non-ASCII, a failed check) is left for the
recognizer to decide in Python, so the counts are those of the cell-by-cell path.
Every pattern recognizer's entity has a rule here; a header naming none is read as text."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrow_arrays import bools, indices, ints, offsets
from .arrow_arrays import mask as as_mask
from .checksums import valid_nhs_rows, valid_uln_rows, valid_upn_rows
from .recognizers import UkPassportRecognizer, UkPostcodeRecognizer
from .recognizers.uk_phone import PLANS, valid_national

Accepted = tuple[np.ndarray, float]   # (mask over the cells, the score they get)
MAX_SCORE = 1.0


def _match(cells: pa.Array, pattern: str) -> np.ndarray:
    return bools(pc.match_substring_regex(cells, pattern))


def _rows(cells: pa.StringArray, mask: np.ndarray, width: int) -> np.ndarray:
    """The bytes of the cells under ``mask`` (each ``width`` ASCII characters) as rows."""
    sub = cells.filter(as_mask(mask))
    if not len(sub):
        return np.empty((0, width), dtype=np.uint8)
    at = offsets(sub)
    data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)[at[0]:at[-1]]
    return data.reshape(len(sub), width)


def _set(mask: np.ndarray, ok: np.ndarray) -> np.ndarray:
    out = np.zeros(len(mask), dtype=bool)
    out[np.flatnonzero(mask)] = ok
    return out


def _upn(cells: pa.StringArray) -> Accepted:
    shape = _match(cells, r"^[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]$")
    return _set(shape, valid_upn_rows(_rows(cells, shape, 13))), MAX_SCORE


def _nhs(cells: pa.StringArray) -> Accepted:
    spaced = _match(cells, r"^[0-9]{3}[ -][0-9]{3}[ -][0-9]{4}$")
    plain = _match(cells, r"^[0-9]{10}$")
    digits = _rows(cells, spaced, 12)[:, [0, 1, 2, 4, 5, 6, 8, 9, 10, 11]]
    ok = _set(spaced, valid_nhs_rows(digits)) | _set(plain, valid_nhs_rows(_rows(cells, plain, 10)))
    return ok, MAX_SCORE


def _uln(cells: pa.StringArray) -> Accepted:
    shape = _match(cells, r"^[1-9][0-9]{9}$")
    return _set(shape, valid_uln_rows(_rows(cells, shape, 10))), MAX_SCORE


def _nino(cells: pa.StringArray) -> Accepted:
    # Capitals, no spaces: the letter classes are the recognizer's own (the prefix rules'
    # letters left out), and the never-issued pairs are ``is_valid_nino``'s.
    shape = _match(cells, r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")
    return shape & ~_match(cells, r"^(?:BG|GB|KN|NK|NT|TN|ZZ)"), MAX_SCORE


def _passport(cells: pa.StringArray) -> Accepted:
    # No check: the pattern's score stands (the header is the cue a cell has).
    return _match(cells, r"^(?:[0-9]{9}|[A-Z]{2}[0-9]{7})$"), UkPassportRecognizer.PATTERNS[0].score


_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _real_dates(d: np.ndarray, m: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``parse_date``'s test of a written day, month and four-digit year."""
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    days = _DAYS[m] - ((m == 2) & ~leap)
    ok: np.ndarray = (d >= 1) & (d <= days) & (y >= 1900) & (y <= date.today().year)
    return ok


def _number(rows: np.ndarray, start: int, width: int) -> np.ndarray:
    digits = rows[:, start:start + width].astype(np.int64) - ord("0")
    out: np.ndarray = digits @ (10 ** np.arange(width - 1, -1, -1))
    return out


def _dob(cells: pa.StringArray) -> Accepted:
    # 12/03/2014 (the first pattern, day first) and 2014-03-12 (ISO), four-digit years.
    uk = _match(cells, r"^(?:0[1-9]|[12][0-9]|3[01])[/.-](?:0[1-9]|1[0-2])[/.-](?:19|20)[0-9]{2}$")
    iso = _match(cells, r"^(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$")
    a, b = _rows(cells, uk, 10), _rows(cells, iso, 10)
    ok = _set(uk, _real_dates(_number(a, 0, 2), _number(a, 3, 2), _number(a, 6, 4)))
    ok |= _set(iso, _real_dates(_number(b, 8, 2), _number(b, 5, 2), _number(b, 0, 4)))
    return ok, MAX_SCORE


_IN = r" ?[0-9][ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2}"
_A1 = "[A-PR-UWYZa-pr-uwyz]"
_A2 = "[A-HK-Ya-hk-y]"
_POSTCODE = (r"^(?:[Gg][Ii][Rr] ?0[Aa][Aa]"
             rf"|{_A1}[0-9][A-HJKPSTUWa-hjkpstuw]?{_IN}"
             rf"|{_A1}[0-9]{{2}}{_IN}"
             rf"|{_A1}{_A2}[0-9][ABEHMNPRVWXYabehmnprvwxy]?{_IN}"
             rf"|{_A1}{_A2}[0-9]{{2}}{_IN})$")


def _postcode(cells: pa.StringArray) -> Accepted:
    # No check beyond the shape: the recognizer's pattern score stands.
    return _match(cells, _POSTCODE), UkPostcodeRecognizer.PATTERNS[0].score


_EMAIL = (r"^[A-Za-z0-9](?:[A-Za-z0-9._%+'-]{0,62}[A-Za-z0-9_'-])?"
          r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$")


def _email(cells: pa.StringArray) -> Accepted:
    # The check: no ".." in the local part or the domain (one '@' and a domain that
    # starts with a letter or digit are in the shape).
    ok = _match(cells, _EMAIL) & ~bools(pc.match_substring(cells, ".."))
    return ok, MAX_SCORE


def _plan_match(nsn: pa.StringArray, lengths: np.ndarray, desc: tuple[frozenset[int], str],
                within: np.ndarray) -> np.ndarray:
    """``uk_phone._matches`` for the numbers under ``within`` (False elsewhere)."""
    sizes, pattern = desc
    todo = within & (np.isin(lengths, list(sizes)) if sizes else True)
    if not todo.any():
        return todo
    return _set(todo, _match(nsn.filter(as_mask(todo)), f"^(?:{pattern})$"))


# Bulk checks cost more to set up (RE2 compiles each pattern per call) than this many
# numbers cost one by one.
FEW = 500


def _valid_national(nsn: pa.StringArray) -> np.ndarray:
    """``uk_phone.valid_national`` of each national number: a number of the first region
    (GB, which claims no leading digits) whose type that region knows is valid, checked
    in bulk a type at a time (mobile and fixed line decide nearly all); the rest (a
    Crown dependency's numbers, the invalid ones) by the recognizer's own function."""
    n = len(nsn)
    known = np.zeros(n, dtype=bool)
    leading, general, types = PLANS[0]
    if leading is None and general is not None and n >= FEW:
        lengths = ints(pc.utf8_length(nsn))
        fits = _plan_match(nsn, lengths, general, np.ones(n, dtype=bool))
        for desc in types:
            todo = fits & ~known
            if todo.sum() < FEW:
                break
            known |= _plan_match(nsn, lengths, desc, todo)
    rest = np.flatnonzero(~known)
    if len(rest):
        numbers = nsn.take(indices(rest)).to_pylist()
        known[rest] = [valid_national(str(x)) for x in numbers]
    return known


def _phone(cells: pa.StringArray) -> Accepted:
    # 0... and +44... written with digits and spaces only: the recognizer's pattern and
    # its "simply written" form (``_national``) both take them; the national number (the
    # digits after 0 or +44) is checked against the numbering plan as the recognizer does.
    ok = np.zeros(len(cells), dtype=bool)
    for shape, drop in ((r"^0[1-9][0-9 ]{7,13}[0-9]$", 1), (r"^\+44 ?[1-9][0-9 ]{7,13}[0-9]$", 3)):
        shaped = _match(cells, shape)
        if shaped.any():
            digits = pc.replace_substring(cells.filter(as_mask(shaped)), " ", "")
            ok |= _set(shaped, _valid_national(pc.utf8_slice_codeunits(digits, drop)))
    return ok, MAX_SCORE


RULES: dict[str, Callable[[pa.StringArray], Accepted]] = {
    "UK_UPN": _upn, "UK_NHS": _nhs, "UK_ULN": _uln, "DATE_OF_BIRTH": _dob,
    "UK_POSTCODE": _postcode, "EMAIL_ADDRESS": _email, "PHONE_NUMBER": _phone,
    "UK_NINO": _nino, "UK_PASSPORT": _passport,
}


def bulk_accepted(entity: str, cells: pa.StringArray) -> Accepted | None:
    """(the cells ``entity``'s recognizer takes, their score), or None: no bulk rule."""
    rule = RULES.get(entity)
    if rule is None or not len(cells):
        return None
    try:
        return rule(cells)
    except pa.ArrowException:
        return None   # e.g. a pattern RE2 does not take: the recognizer decides every cell
