"""What dataward's pattern recognizers share: case-sensitive matching (identifiers are
written in capitals; case-insensitive shapes match ordinary words) and a normaliser that
turns a matched value into the canonical form its fingerprint is taken from."""
from __future__ import annotations

import re

from presidio_analyzer import PatternRecognizer


def alnum_upper(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


class DatawardPatternRecognizer(PatternRecognizer):
    ENTITY: str = ""
    PATTERNS: list = []
    CONTEXT: list[str] = []
    FLAGS = re.MULTILINE
    # A cheap test the engine runs first: when it finds nothing in a text, this recognizer
    # cannot match there and Presidio is not asked to run it. None: always run.
    REQUIRES: re.Pattern[str] | None = None

    def __init__(self) -> None:
        super().__init__(
            supported_entity=self.ENTITY, patterns=list(self.PATTERNS),
            context=list(self.CONTEXT), supported_language="en",
            name=type(self).__name__, global_regex_flags=self.FLAGS,
        )

    @staticmethod
    def normalise(value: str) -> str:
        """The canonical form of a matched value (fingerprints are taken of this)."""
        return alnum_upper(value)
