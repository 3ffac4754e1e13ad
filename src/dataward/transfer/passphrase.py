"""Generated passphrases, and the strength test for passwords a person supplies.

WinZip AES derives its key with only 1,000 rounds of PBKDF2-SHA1, so an offline guesser
is fast; the passphrase itself has to carry the strength. dataward's passphrases are
words drawn uniformly with ``secrets`` from the EFF long word list (7,776 words, shipped
by the ``xkcdpass`` package, BSD-3-Clause): 6 words are about 77.5 bits.

A password a person supplies must reach the same number of bits. The estimate is the
lower of two views: zxcvbn's (patterns, common passwords, keyboard walks, with every EFF
word counted as a dictionary word), and, for anything that looks like words with
separators, the sum over *distinct* words of what each word is worth on its own. The
second view stops ``tiger-tiger-tiger-...`` and short common-word phrases, which
zxcvbn rates too highly when separators are present.
"""
from __future__ import annotations

import math
import re
import secrets
from functools import lru_cache
from importlib import resources

from ..errors import ConfigError, RefusedError

EFF_LONG_WORDS = 7776
SEPARATOR = "-"
_SPLIT = re.compile(r"[\s\-_.,+:;/|]+")


@lru_cache(maxsize=1)
def eff_long_wordlist() -> tuple[str, ...]:
    """The EFF long word list as shipped by xkcdpass (checked: 7,776 distinct words)."""
    try:
        text = resources.files("xkcdpass").joinpath("static/eff-long").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ConfigError("the EFF word list is missing (package xkcdpass)",
                          hint="reinstall dataward: pip install 'xkcdpass>=1.19'") from exc
    words = tuple(w.strip().lower() for w in text.split() if w.strip())
    if len(words) != EFF_LONG_WORDS or len(set(words)) != EFF_LONG_WORDS:
        raise ConfigError("the EFF word list shipped by xkcdpass is not the 7,776-word list",
                          hint="reinstall xkcdpass")
    return words


@lru_cache(maxsize=1)
def _generator_words() -> tuple[str, ...]:
    # Four EFF words hold a hyphen (t-shirt, yo-yo, ...): leave them out so a phrase
    # read aloud splits into words one way only.
    return tuple(w for w in eff_long_wordlist() if w.isalpha())


def bits_per_word() -> float:
    return math.log2(len(_generator_words()))


def generate_passphrase(words: int = 6) -> str:
    """``words`` random EFF words joined by hyphens, e.g. ``zoning-mutable-...``."""
    if words < 6:
        raise ConfigError("a generated passphrase has at least 6 words")
    pool = _generator_words()
    return SEPARATOR.join(secrets.choice(pool) for _ in range(words))


def passphrase_bits(words: int = 6) -> float:
    return words * bits_per_word()


def _zxcvbn_bits(password: str) -> float:
    from zxcvbn import zxcvbn
    # zxcvbn takes at most 72 characters; judging the start of a longer password
    # can only under-rate it.
    result = zxcvbn(password[:72], user_inputs=list(eff_long_wordlist()))
    return math.log2(max(float(result["guesses"]), 1.0))


def _word_bits(words: list[str]) -> float:
    eff = set(eff_long_wordlist())
    bits = 0.0
    for w in set(words):
        bits += bits_per_word() if w in eff else _zxcvbn_bits(w)
    return bits


def password_bits(password: str) -> float:
    """Estimated strength in bits against a guesser who knows the EFF list and zxcvbn's
    dictionaries."""
    if not password:
        return 0.0
    estimate = _zxcvbn_bits(password)
    tokens = [t for t in _SPLIT.split(password.lower()) if t]
    if len(tokens) >= 2 and all(t.isalpha() for t in tokens):
        estimate = min(estimate, _word_bits(tokens))
    return estimate


def check_password(password: str, min_bits: float) -> float:
    """Refuse a supplied password weaker than ``min_bits``; return its estimate.

    The message never repeats the password."""
    bits = password_bits(password)
    if bits < min_bits:
        raise RefusedError(
            f"the password is too weak for a WinZip-AES package: about {bits:.0f} bits, "
            f"{min_bits:.0f} needed",
            hint="let dataward generate one (leave out --password-file and --ask-password), "
                 "or use 6 or more random words, or 24 or more random characters",
        )
    return bits
