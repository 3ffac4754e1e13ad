"""What dataward's pattern recognizers share: case-sensitive matching (identifiers are
written in capitals; case-insensitive shapes match ordinary words), a lean ``analyze``,
and a normaliser that turns a matched value into the canonical form its fingerprint is
taken from."""
from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from ..checksums import alnum_upper as alnum_upper  # re-exported to the recognizers
from ..checksums import alnum_upper_many as alnum_upper_many


class DatawardPatternRecognizer(PatternRecognizer):
    ENTITY: str = ""
    PATTERNS: list[Pattern] = []
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

        # Patterns compiled once with the standard library's engine: every dataward pattern
        # is linear (no nested repetition), so the per-call timeout of the `regex` module
        # that Presidio's own analyze() uses is not needed.
        self._compiled = [(p, re.compile(p.regex, self.FLAGS)) for p in self.PATTERNS]
        self._metadata = {RecognizerResult.RECOGNIZER_NAME_KEY: type(self).__name__,
                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        """Presidio's pattern semantics (a validated match scores 1.0, an invalid one is
        dropped) without its per-match explanation objects and timing calls."""
        results: list[RecognizerResult] = []
        for pattern, rx in self._compiled:
            for m in rx.finditer(text):
                start, end = m.span()
                if start == end:
                    continue
                valid = self.validate_result(text[start:end])
                if valid is False:
                    continue
                score = EntityRecognizer.MAX_SCORE if valid else pattern.score
                results.append(RecognizerResult(self.ENTITY, start, end, score,
                                                recognition_metadata=self._metadata))
        return EntityRecognizer.remove_duplicates(results) if len(results) > 1 else results

    def column_scores(self, values: list[str]) -> list[float | None]:
        """The score of each table cell that is exactly one value of this entity, else
        None. The same patterns and check as ``analyze``, on whole cells: a column of
        identifiers is validated in bulk (``validate_many``) without searching text."""
        n = len(values)
        if not n or not self._compiled:
            return [None] * n
        shape: list[float | None] = [None] * n   # the score of the first pattern matched
        left: list[int] | None = None           # cells no pattern matched yet (None: all)
        for pattern, rx in self._compiled:
            cells = values if left is None else [values[i] for i in left]
            matched = list(map(rx.fullmatch, cells))
            if left is None and None not in matched:   # the whole column has this shape
                shape, left = [pattern.score] * n, []
                break
            index = range(n) if left is None else left
            left = []
            for i, m in zip(index, matched):
                if m is None:
                    left.append(i)
                else:
                    shape[i] = pattern.score
            if not left:
                break
        if left is not None and len(left) == n:
            return shape
        if not left:
            checks = self.validate_many(values)
            if False not in checks and None not in checks:  # every cell passes its check
                return [EntityRecognizer.MAX_SCORE] * n
            shaped: range | list[int] = range(n)
        else:
            shaped = [i for i, s in enumerate(shape) if s is not None]
            checks = self.validate_many([values[i] for i in shaped])
        maximum = EntityRecognizer.MAX_SCORE
        scores: list[float | None] = [None] * n
        for i, valid in zip(shaped, checks):
            if valid is not False:
                scores[i] = maximum if valid else shape[i]
        return scores

    def validate_many(self, values: list[str]) -> list[bool | None]:
        """``validate_result`` of each value; checksummed recognizers do it in bulk."""
        return [self.validate_result(v) for v in values]

    @staticmethod
    def normalise(value: str) -> str:
        """The canonical form of a matched value (fingerprints are taken of this)."""
        return alnum_upper(value)

    def normalise_many(self, values: list[str]) -> list[str]:
        """``normalise`` of each value (a column at once)."""
        if type(self).normalise is DatawardPatternRecognizer.normalise:
            return alnum_upper_many(values)
        return list(map(self.normalise, values))
