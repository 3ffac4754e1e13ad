"""The one rule for comparing people's names, used by the scan (roster names in text,
fingerprints, subject access) and by retention (leavers in image tags and paths).

Case is folded, accents are stripped ("Zoë" == "Zoe"), typographic apostrophes and
hyphens become ASCII ones, and any Unicode space is a space. ``fold_text`` does this
character for character, so offsets in the folded text are offsets in the original (the
scan masks what it finds there); ``fold_name`` then also drops apostrophes, reads
hyphens as spaces and collapses runs of spaces, giving the key two written forms of one
name share: "Zoë O'Brien", "Zoe O’Brien" and "ZOË OBRIEN" all fold to "zoe obrien".

Limits: letters that do not decompose (ø, ł, æ) are kept as they are, and text already
in decomposed form (a base letter followed by a combining accent, as some Mac file names
are) keeps its accent marks in ``fold_text``; ``fold_name`` composes it first.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

APOSTROPHES = "'\u2019\u2018\u02bc\u0060\u00b4\u2032"
HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2212\u00ad"
_ASCII_SPACES = "\t\n\r\x0b\x0c"


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    """One character to one character: accented Latin letters to their base letter
    (lower case), apostrophes to ', hyphens to -, Unicode spaces to a space."""
    table: dict[int, str] = {}
    for cp in range(0xC0, 0x250):
        ch = chr(cp)
        decomposed = unicodedata.normalize("NFD", ch)
        if (len(decomposed) > 1 and decomposed[0].isascii()
                and all(unicodedata.combining(c) for c in decomposed[1:])):
            table[cp] = decomposed[0].lower()
    for ch in APOSTROPHES[1:]:
        table[ord(ch)] = "'"
    for ch in HYPHENS[1:]:
        table[ord(ch)] = "-"
    for cp in (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F,
               0x205F, 0x3000):
        table[cp] = " "
    return table


def fold_text(text: str) -> str:
    """Case folded, accents stripped, apostrophes/hyphens made ASCII and every white-space
    character a space, with the same length as ``text``. Each distinct character present
    is replaced once with ``str.replace`` (memory speed; ``str.translate`` falls to a slow
    path on non-ASCII text)."""
    folded = text.casefold()
    if len(folded) != len(text):  # e.g. "ß" -> "ss": keep offsets valid
        folded = text.lower()
        if len(folded) != len(text):
            folded = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    for ch in _ASCII_SPACES:
        if ch in folded:
            folded = folded.replace(ch, " ")
    if folded.isascii():
        return folded
    table = _table()
    for ch in set(folded):
        rep = table.get(ord(ch))
        if rep is not None:
            folded = folded.replace(ch, rep)
    return folded


def fold_name(name: str) -> str:
    """The key a written name is compared and fingerprinted by: ``fold_text`` of it,
    apostrophes dropped (O'Brien -> obrien), hyphens read as spaces, spaces collapsed."""
    text = fold_text(unicodedata.normalize("NFC", name))
    text = text.replace("'", "")
    return " ".join(text.replace("-", " ").split())


def name_forms(name: str) -> tuple[str, ...]:
    """The folded ways a written name appears in text: as written (``fold_text``,
    apostrophes and hyphens kept) and as ``fold_name`` (without them)."""
    written = " ".join(fold_text(unicodedata.normalize("NFC", name)).split())
    return tuple(dict.fromkeys(f for f in (written, fold_name(name)) if f))
