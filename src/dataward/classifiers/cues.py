"""Cue words that must stand just before a value for it to count (a date is a date of
birth only after "DOB"; nine digits are a passport number only after "passport"). The
recognizers require them, and table readers put a cue header before each cell of its
column. No Presidio import here: extractors use it too."""
from __future__ import annotations

import re

DATE_OF_BIRTH = re.compile(r"\b(?:d\.?o\.?b\b\.?|date\s+of\s+birth|birth\s*date|born|birthday)",
                           re.IGNORECASE)
PASSPORT = re.compile(r"passport", re.IGNORECASE)
ALL = (DATE_OF_BIRTH, PASSPORT)
