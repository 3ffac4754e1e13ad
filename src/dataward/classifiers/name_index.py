"""A keyed index of the words in an item, so that names added to the roster can be looked
for in files that have not changed, without reading every file again.

Each item's distinct word tokens (the text folded and split exactly as the roster matcher
sees it) go into a Bloom filter. A token's bit positions come from HMAC-SHA256 of the token
under a key derived from the school's fingerprint key: the filter holds no text, and
without the key nobody can test it for a word. With the key it answers only "might this
item contain all of these words?", with false positives (about 1 in 100 for one word,
far fewer for a full name) and no false negatives: a "maybe" is settled by reading the
file, so the index decides which files to read, never what they contain.

Filters have a power-of-two number of bits, about ten per distinct token (``BITS_PER_TOKEN``),
so that items of one size can be tested together (``matches``).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence

import numpy as np

# The one name rule, from its home: through recognizers/ it would import Presidio into the
# scanning process, which only needs the index.
from ..connectors.names import fold_text as fold

# Roster names are whole words of these characters (roster_names.is_word_char).
TOKEN = re.compile(r"[\w'-]+")
HASHES = 7                      # bit positions per token
BITS_PER_TOKEN = 10             # about 1% false positives per token at 7 hashes
MIN_BITS, MAX_BITS = 256, 1 << 21   # 32 bytes .. 256 KiB per item
INDEX_CONTEXT = b"dataward name-token index v1"


def index_key(fingerprint_key: bytes) -> bytes:
    """The index's own key, so its hashes are never equal to any fingerprint."""
    return hmac.digest(fingerprint_key, INDEX_CONTEXT, "sha256")


def tokens(text: str) -> set[str]:
    """The distinct tokens of ``text`` as the roster matcher folds them."""
    # Whitespace never belongs to a token: splitting on it first (C speed) leaves few
    # distinct chunks for the regular expression, about four times faster on prose.
    out: set[str] = set()
    for chunk in set(fold(text).split()):
        if chunk.isalnum():
            out.add(chunk)
        else:
            out.update(TOKEN.findall(chunk))
    return out


def name_tokens(variant: str) -> list[str]:
    """The tokens a written form of a name needs ("khan, amelia" -> khan, amelia)."""
    return TOKEN.findall(fold(variant))


# Documents share most of their words: each process remembers the digests it made.
_memo: dict[str, bytes] = {}
_memo_key: list[bytes] = [b""]
MEMO_MAX = 200_000


def _digests(key: bytes, toks: Iterable[str]) -> np.ndarray:
    if _memo_key[0] != key or len(_memo) > MEMO_MAX:
        _memo.clear()
        _memo_key[0] = key
    memo, parts = _memo, []
    for t in toks:
        d = memo.get(t)
        if d is None:
            d = memo[t] = hmac.digest(key, t.encode("utf-8", "surrogatepass"), "sha256")[:4 * HASHES]
        parts.append(d)
    return np.frombuffer(b"".join(parts), dtype="<u4").reshape(-1, HASHES)


def build(key: bytes, text: str) -> bytes:
    """The Bloom filter of ``text``'s tokens (empty bytes for text without a token)."""
    return build_tokens(key, tokens(text))


def build_tokens(key: bytes, toks: set[str]) -> bytes:
    """The Bloom filter of a set of tokens (an item read in pieces gathers them)."""
    if not toks:
        return b""
    bits = MIN_BITS
    while bits < len(toks) * BITS_PER_TOKEN and bits < MAX_BITS:
        bits <<= 1
    pos = (_digests(key, toks) & np.uint32(bits - 1)).ravel()
    arr = np.zeros(bits // 8, dtype=np.uint8)
    np.bitwise_or.at(arr, pos >> 3, (1 << (pos & 7)).astype(np.uint8))
    return arr.tobytes()


class NameQuery:
    """Which of many items may hold any of some names (each a list of tokens)."""

    def __init__(self, key: bytes, names: Sequence[Sequence[str]]) -> None:
        self.names = [list(dict.fromkeys(n)) for n in names if n]
        all_tokens = sorted({t for n in self.names for t in n})
        digests = _digests(key, all_tokens) if all_tokens else np.zeros((0, HASHES), np.uint32)
        self._digest = dict(zip(all_tokens, digests))

    def matches(self, filters: Sequence[bytes | None]) -> np.ndarray:
        """A boolean per filter: True where some name's every token may be present. A
        missing filter (``None``: an item indexed by no scan) is always a match."""
        out = np.zeros(len(filters), dtype=bool)
        by_size: dict[int, list[bytes]] = {}
        where: dict[int, list[int]] = {}
        for i, f in enumerate(filters):
            if f is None:
                out[i] = True
            elif f:
                by_size.setdefault(len(f), []).append(f)
                where.setdefault(len(f), []).append(i)
        for size, blobs in by_size.items():
            rows = where[size]
            block = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(rows), size)
            mask = np.uint32(size * 8 - 1)
            hit = np.zeros(len(rows), dtype=bool)
            for name in self.names:
                have = np.ones(len(rows), dtype=bool)
                for tok in name:
                    for p in (self._digest[tok] & mask):
                        have &= (block[:, p >> 3] & np.uint8(1 << (p & 7))) != 0
                hit |= have
            out[rows] = hit
        return out


def fingerprint_of_variant(key: bytes, variant: str) -> str:
    """A keyed digest of one written form of a name (for the roster record, never the name)."""
    return hmac.digest(key, b"variant:" + variant.encode("utf-8", "surrogatepass"),
                       "sha256").hex()[:32]


def digest_of(parts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()[:32]
