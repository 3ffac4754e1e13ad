"""How the report names an item: a readable path under its source (``staff/Reports/Year 6/
report.pdf``), with every part that holds personal data masked the way previews are, and a
short item id that ``dataward show ITEM`` turns back into the full path on the server.

A file or folder name can hold a pupil's name (``Amelia Khan sports day.jpg``) or a UPN; the
scan's path-name check finds roster names in images' names, and the report masks the same
names (and UPNs, e-mail addresses) in every path it shows, whatever the item's format.
The item id is keyed with the school's fingerprint key, so it cannot be matched against
guessed paths by someone holding only the report.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote

from ..classifiers.checksums import is_valid_upn
from ..classifiers.fingerprint import mask
from ..classifiers.path_names import name_spans
from ..connectors.roster import Roster
from ..settings import Settings

if TYPE_CHECKING:
    from ..classifiers.recognizers.roster_names import RosterNameRecognizer

ITEM_ID_CHARS = 12
_UPN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][0-9]{11}[0-9A-Za-z](?![A-Za-z0-9])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_SEPARATORS = str.maketrans({c: " " for c in "_./+\\-"})


def item_id(key: bytes, locator: str) -> str:
    """The short id the report shows for an item (keyed: not guessable from a path)."""
    return hmac.new(key, b"item\0" + locator.encode("utf-8", "surrogateescape"),
                    hashlib.sha256).hexdigest()[:ITEM_ID_CHARS]


class PathMasker:
    """Masks roster names, UPNs and e-mail addresses in paths (built once per report)."""

    def __init__(self, roster: Roster) -> None:
        self._names: RosterNameRecognizer | None = None
        if roster.people:
            from ..classifiers.recognizers.roster_names import RosterNameRecognizer
            self._names = RosterNameRecognizer(roster)
        self._cache: dict[str, str] = {}

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        if self._names is not None:
            found += [(s, e, "PERSON") for s, e, _c, _w in name_spans(self._names, text)]
        found += [(m.start(), m.end(), "UK_UPN") for m in _UPN.finditer(text)
                  if is_valid_upn(m.group().upper())]
        found += [(m.start(), m.end(), "EMAIL_ADDRESS") for m in _EMAIL.finditer(text)]
        kept: list[tuple[int, int, str]] = []
        for s, e, t in sorted(found, key=lambda f: (f[0], -(f[1] - f[0]))):
            if kept and s < kept[-1][1]:
                continue  # the longest of overlapping spans wins
            kept.append((s, e, t))
        return kept

    def mask(self, text: str) -> str:
        """``text`` with each personal value replaced by its masked preview."""
        if text in self._cache:
            return self._cache[text]
        out, pos = [], 0
        for s, e, entity in self.spans(text):
            value = text[s:e] if entity != "PERSON" else text[s:e].translate(_SEPARATORS)
            out += [text[pos:s], mask(entity, value)]
            pos = e
        masked = "".join(out) + text[pos:]
        self._cache[text] = masked
        return masked


def source_roots(settings: Settings) -> dict[str, str]:
    return {s.name: str(s.path).rstrip("/") + "/" for s in settings.sources}


def readable_path(path: str, source: str, roots: dict[str, str]) -> str:
    """``<source>/<path under its root>`` with no percent-encoding; other paths as they are."""
    root = roots.get(source)
    if root and path.startswith(root):
        return f"{source}/{path[len(root):]}"
    if path.startswith("file://"):
        plain = unquote(path[len("file://"):], errors="replace")
        for name, r in roots.items():
            if plain.startswith(r):
                return f"{name}/{plain[len(r):]}"
        return plain
    return path


class ItemNamer:
    """Readable, masked path and item id for each row the report shows."""

    def __init__(self, settings: Settings, roster: Roster, key: bytes) -> None:
        self.roots = source_roots(settings)
        self.masker = PathMasker(roster)
        self.key = key

    def shown(self, path: str, source: str) -> str:
        return self.masker.mask(readable_path(path, source, self.roots))

    def item_id(self, locator: str) -> str:
        return item_id(self.key, locator)

    def many(self, rows: Iterable[tuple[str, str, str]]) -> tuple[list[str], list[str]]:
        """(shown paths, item ids) of (locator, path, source) rows."""
        shown, ids = [], []
        for loc, path, source in rows:
            shown.append(self.shown(path, source))
            ids.append(self.item_id(loc))
        return shown, ids
