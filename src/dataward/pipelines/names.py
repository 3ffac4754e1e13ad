"""Names and UPNs as the matcher sees them: normalised tokens, checked identifiers.

Both a pupil's name from the MIS and a folder name or tag on an image go through the
same ``tokens()``, so "Zoë O'Brien-Smith", "zoe_obrien smith" and "ZOE OBRIEN-SMITH"
meet on the same tokens.
"""
from __future__ import annotations

import re

from ..classifiers.checksums import is_valid_upn, upn_check_letter  # noqa: F401 - re-exported for callers of names
from ..connectors.names import APOSTROPHES, fold_name

_UPN_SHAPE = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")
_UPN_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][0-9]{11}[0-9A-Za-z])(?![A-Za-z0-9])")
_APOSTROPHES = re.compile("[" + re.escape(APOSTROPHES) + "]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes dropped (O'Brien -> obrien): the scan's
    rule too (``connectors.names.fold_name``)."""
    return fold_name(text)


def tokens(text: str) -> list[str]:
    """Word tokens of a name, a path component or a tag: letters and digits only.
    CamelCase is split too ("JaneDoe" -> jane, doe), so joined names are found."""
    text = _CAMEL.sub(" ", _APOSTROPHES.sub("", text))
    return [t for t in _NON_ALNUM.split(fold(text)) if t]


def normalise_upn(raw: str) -> str:
    return re.sub(r"\s+", "", raw).upper()


def upn_valid(upn: str) -> bool:
    """Shape and check letter of a Unique Pupil Number."""
    return bool(_UPN_SHAPE.match(upn)) and is_valid_upn(upn)


def upns_in(text: str) -> list[str]:
    """UPN-shaped words in a text, upper-cased (the caller decides which are known)."""
    return [m.upper() for m in _UPN_IN_TEXT.findall(text)]
