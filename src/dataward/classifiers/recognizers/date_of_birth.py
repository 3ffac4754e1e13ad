"""Dates of birth: a real calendar date (UK day-month order, ISO, or with the month in
words) that a cue such as "DOB", "date of birth" or "born" stands shortly before.
A date with no cue is not a date of birth: minutes and letters are full of dates.
Tables carry the cue in their header: the table reader puts "DOB: " before each cell."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from presidio_analyzer import Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from .. import cues
from ._base import DatawardPatternRecognizer

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_MONTH_NUM = {name: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for name in names}
_CUE = cues.DATE_OF_BIRTH
WINDOW = 50

_NUMERIC = r"\b(?:0?[1-9]|[12][0-9]|3[01])[/.-](?:0?[1-9]|1[0-2])[/.-](?:19|20)?[0-9]{2}\b"
_ISO = r"\b(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])\b"
_WORDS = (r"\b(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?\s+(?:of\s+)?(?:" + _MONTHS +
          r")\.?,?\s+(?:19|20)[0-9]{2}\b")
_US_WORDS = (r"\b(?:" + _MONTHS + r")\.?\s+(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?,?\s+"
             r"(?:19|20)[0-9]{2}\b")


@lru_cache(maxsize=16384)  # a class list holds a few hundred distinct dates
def parse_date(value: str) -> date | None:
    """The date a matched string means (UK order for numeric dates), or None."""
    v = value.strip().lower().replace(",", " ").replace(".", " ") if not re.fullmatch(
        r"[\d./-]+", value.strip()) else value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            y, m, d = map(int, v.split("-"))
        elif re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", v):
            d, m, y = map(int, re.split(r"[/.-]", v))
            if y < 100:
                y += 2000 if y <= date.today().year % 100 else 1900
        else:
            tokens = [t for t in re.split(r"\s+", v) if t and t != "of"]
            nums = [int(re.sub(r"(st|nd|rd|th)$", "", t)) for t in tokens
                    if re.fullmatch(r"\d+(st|nd|rd|th)?", t)]
            months = [_MONTH_NUM[t] for t in tokens if t in _MONTH_NUM]
            if len(nums) != 2 or len(months) != 1:
                return None
            d, y = (nums[0], nums[1]) if nums[0] <= 31 and nums[1] > 31 else (nums[1], nums[0])
            m = months[0]
        result = date(y, m, d)
    except (ValueError, KeyError):
        return None
    return result if 1900 <= result.year <= date.today().year else None


class DateOfBirthRecognizer(DatawardPatternRecognizer):
    ENTITY = "DATE_OF_BIRTH"
    REQUIRES = _CUE
    FLAGS = re.MULTILINE | re.IGNORECASE
    PATTERNS = [Pattern("date (numeric)", _NUMERIC, 0.7), Pattern("date (ISO)", _ISO, 0.7),
                Pattern("date (words)", _WORDS, 0.7), Pattern("date (month first)", _US_WORDS, 0.7)]
    CONTEXT = ["dob", "date of birth", "born", "birthday"]

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if _CUE.search(text, max(0, r.start - WINDOW), r.start)]

    def validate_result(self, pattern_text: str) -> bool:
        return parse_date(pattern_text) is not None

    @staticmethod
    def normalise(value: str) -> str:
        parsed = parse_date(value)
        return parsed.isoformat() if parsed else value
