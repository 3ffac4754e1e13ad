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

Two things a guesser knows about a school are used against it too (issue 16):

* the context of the package (the school's name and mail domains, the recipient, the
  purpose) is given to zxcvbn as user inputs, and each of its words is worth only the
  choice among them in the word view: "Oakfield Primary School Year Six Transfer
  Records ..." is refused when the school is Oakfield Primary School;
* a sentence (words joined by English function words such as "the", "of", "my") is
  valued by how common each word is in English, not as random words, and at most
  ``SENTENCE_BITS_PER_LETTER`` per letter (Shannon's estimate of English prose is 0.6 to
  1.3 bits a letter; guessers model sentences with language models). A sentence that
  uses every letter of the alphabet is a pangram, and pangrams are in the phrase lists
  guessers start with: it is valued as one phrase of a million, 20 bits. Only function words missing
  from the EFF list count ("that", "very", "upon" are EFF words), so a generated
  passphrase keeps its random-word value.
"""
from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from ..errors import ConfigError, RefusedError

EFF_LONG_WORDS = 7776
SEPARATOR = "-"
_SPLIT = re.compile(r"[\s\-_.,+:;/|!?'\"()]+")
# English function words: one of them that is not an EFF word marks a sentence, valued
# by word frequency rather than as random words.
FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for with and or but nor so as is are was were be been am "
    "i me my mine you your he him his she her it its we us our they them their this that "
    "which who whom what when where why how than then into onto upon over under off up "
    "out very just not no yes do does did has have".split())


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
    # Six different words: a repeated word is worth nothing the second time in the
    # strength test (about 0.002 bits fewer than drawing with repeats).
    return SEPARATOR.join(secrets.SystemRandom().sample(_generator_words(), words))


def passphrase_bits(words: int = 6) -> float:
    return words * bits_per_word()


def context_words(texts: Iterable[str | None]) -> tuple[str, ...]:
    """The words of the package's context (school name, domains, recipient, purpose)."""
    words: dict[str, None] = {}
    for text in texts:
        for w in _SPLIT.split((text or "").lower()):
            if w:
                words[w] = None
    return tuple(words)


def _zxcvbn_bits(password: str, context: tuple[str, ...] = ()) -> float:
    from zxcvbn import zxcvbn
    # zxcvbn takes at most 72 characters; judging the start of a longer password
    # can only under-rate it.
    result = zxcvbn(password[:72], user_inputs=[*eff_long_wordlist(), *context])
    return math.log2(max(float(result["guesses"]), 1.0))


@lru_cache(maxsize=1)
def _english_ranks() -> dict[str, int]:
    """Each word's rank in zxcvbn's English frequency lists (1 = most common)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS
    ranks: dict[str, int] = {}
    for name in ("english_wikipedia", "us_tv_and_film"):
        for i, w in enumerate(FREQUENCY_LISTS[name], start=1):
            if ranks.get(w, i + 1) > i:
                ranks[w] = i
    return ranks


SENTENCE_BITS_PER_LETTER = 1.3
PHRASE_LIST_BITS = 20.0


def _word_bits(words: list[str], context: tuple[str, ...] = ()) -> float:
    eff = set(eff_long_wordlist())
    ctx = set(context)
    sentence = any(w in FUNCTION_WORDS and w not in eff for w in words)
    ranks = _english_ranks()
    bits = 0.0
    for w in set(words):
        if w in ctx:  # a guesser tries the words of the school, recipient and purpose first
            bits += math.log2(len(ctx) + 1)
            continue
        value = bits_per_word() if w in eff else _zxcvbn_bits(w, context)
        if sentence and w in ranks:
            value = min(value, math.log2(ranks[w] + 1))
        bits += value
    if sentence:
        letters = "".join(words)
        if set("abcdefghijklmnopqrstuvwxyz") <= set(letters):
            return min(bits, PHRASE_LIST_BITS)
        bits = min(bits, SENTENCE_BITS_PER_LETTER * len(letters))
    return bits


def password_bits(password: str, context: Iterable[str] = ()) -> float:
    """Estimated strength in bits against a guesser who knows the EFF list, zxcvbn's
    dictionaries, English word frequencies and the package's ``context`` words."""
    if not password:
        return 0.0
    ctx = context_words(context)
    estimate = _zxcvbn_bits(password, ctx)
    tokens = [t for t in _SPLIT.split(password.lower()) if t]
    if len(tokens) >= 2 and all(t.isalpha() for t in tokens):
        estimate = min(estimate, _word_bits(tokens, ctx))
    return estimate


def check_password(password: str, min_bits: float, context: Iterable[str] = ()) -> float:
    """Refuse a supplied password weaker than ``min_bits``; return its estimate.
    ``context``: texts a guesser would try first (school name, domains, recipient,
    purpose). The message never repeats the password."""
    bits = password_bits(password, context)
    if bits < min_bits:
        raise RefusedError(
            f"the password is too weak for a WinZip-AES package: about {bits:.0f} bits, "
            f"{min_bits:.0f} needed",
            hint="let dataward generate one (leave out --password-file and --ask-password), "
                 "or use 6 or more random words, or 24 or more random characters",
        )
    return bits
