"""Fingerprints and masked previews: the only forms in which a found value leaves memory.

A fingerprint is HMAC-SHA256 under the school's secret key of ``ENTITY:normalised value``,
cut to 128 bits. The same value always gives the same fingerprint in one school, so the DPO
can ask "where does this pupil's UPN appear?" (``dataward subject find``) without any
output holding the UPN; without the key, a fingerprint cannot be tested against guesses.

A masked preview keeps the shape of a value and only what is not identifying on its own
(initials, the outward part of a postcode, an e-mail's domain, the last digits of a number).
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

FINGERPRINT_HEX = 32


class Fingerprinter:
    """HMAC-SHA256 with the key's inner and outer pad states hashed once (RFC 2104): each
    fingerprint then costs two SHA-256 compressions of its own bytes, a third of what
    ``hmac.new`` costs per call. Values repeat (a pupil's postcode, a class's dates of
    birth, roster names), so the last ``CACHE`` fingerprints are remembered."""

    CACHE = 65_536
    # Only these repeat often enough to be worth remembering; a UPN or a phone number
    # is usually written once per document.
    REPEATING = frozenset({"PERSON", "UK_POSTCODE", "DATE_OF_BIRTH", "SPECIAL_CATEGORY"})

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("fingerprint key too short")
        self._key = key
        block = key if len(key) <= 64 else hashlib.sha256(key).digest()
        block = block.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._cache: dict[str, str] = {}

    def __call__(self, entity_type: str, normalised: str) -> str:
        if entity_type in self.REPEATING:
            return self.many(entity_type, [normalised])[0]
        inner = self._inner.copy()
        inner.update(f"{entity_type}:{normalised}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:FINGERPRINT_HEX]

    def many(self, entity_type: str, normalised: list[str]) -> list[str]:
        """Fingerprints of a column of values, in one pass."""
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        prefix = f"{entity_type}:"
        if entity_type not in self.REPEATING:
            out: list[str] = []
            append = out.append
            for value in normalised:
                inner = inner_copy()
                inner.update((prefix + value).encode())
                outer = outer_copy()
                outer.update(inner.digest())
                append(outer.hexdigest()[:FINGERPRINT_HEX])
            return out
        cache = self._cache
        out = []
        for value in normalised:
            msg = prefix + value
            fp = cache.get(msg)
            if fp is None:
                inner = inner_copy()
                inner.update(msg.encode())
                outer = outer_copy()
                outer.update(inner.digest())
                fp = outer.hexdigest()[:FINGERPRINT_HEX]
                if len(cache) >= self.CACHE:
                    cache.clear()
                cache[msg] = fp
            out.append(fp)
        return out


# Every ASCII letter and digit to '*': the mask of an identifier in one C call.
_STAR = str.maketrans({c: "*" for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"})


def _masked_postcode(compact: str) -> str:
    return f"{compact[:-3]} ***"


def _star_all_but_last(value: str, keep: int) -> str:
    positions = [i for i, c in enumerate(value) if c.isalnum()]
    hide = set(positions[:-keep] if keep else positions)
    return "".join("*" if i in hide else c for i, c in enumerate(value))


# Previews of these repeat across a document (a class shares postcodes and birthdays,
# names recur): they are remembered.
_REPEATING = frozenset({"PERSON", "UK_POSTCODE", "DATE_OF_BIRTH"})


def mask(entity_type: str, value: str) -> str:
    """A preview safe to write anywhere dataward writes."""
    if entity_type in _REPEATING:
        return _mask_repeating(entity_type, value)
    return _mask(entity_type, value)


# Entities whose preview is the shape of the value and its last two characters.
_SHAPED = frozenset({"UK_UPN", "UK_ULN", "UK_NHS", "UK_NINO", "UK_PASSPORT", "PHONE_NUMBER"})


def mask_many(entity_type: str, values: list[str]) -> list[str]:
    """``mask`` of each value (a column of identifiers at once)."""
    if entity_type in _SHAPED:
        star = _STAR
        return [v[:-2].translate(star) + v[-2:]
                if v.isascii() and v[-2:].isalnum() and not v[:1].isspace()
                else _mask(entity_type, v) for v in values]
    if entity_type == "UK_POSTCODE":  # postcodes rarely repeat within one column
        return [_masked_postcode("".join(v.split()).upper()) for v in values]
    one = _mask_repeating if entity_type in _REPEATING else _mask
    return [one(entity_type, v) for v in values]


def _mask(entity_type: str, value: str) -> str:
    v = value.strip()
    if entity_type == "PERSON":
        return " ".join(w[0].upper() + "*" * max(2, len(w) - 1) for w in v.split() if w)
    if entity_type == "EMAIL_ADDRESS":
        local, _, domain = v.partition("@")
        return f"{local[:1]}***@{domain.lower()}"
    if entity_type == "UK_POSTCODE":
        return _masked_postcode(re.sub(r"\s", "", v).upper())
    if entity_type in ("DATE_OF_BIRTH",):
        return re.sub(r"[0-9A-Za-z]", "*", v)
    if entity_type == "GPS_LOCATION":
        return "**.***, **.***"
    if entity_type == "SPECIAL_CATEGORY":
        return v  # callers pass the category name, never the matched word
    # Identifiers and phone numbers: shape plus the last two characters.
    if v.isascii() and v[-2:].isalnum():
        return v[:-2].translate(_STAR) + v[-2:]
    return _star_all_but_last(v, 2)


_mask_repeating = lru_cache(maxsize=65_536)(_mask)
