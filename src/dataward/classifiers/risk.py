"""The risk score of one item: what it holds, weighed by who can open where it sits.

score = (sum over entity types of weight x min(count, cap)) x audience factor.
Special-category terms count only beside something that identifies a person: a leaflet
about asthma is not a pupil's health record; a letter naming a pupil and their asthma is.
"""
from __future__ import annotations

from collections.abc import Mapping

from ..settings import Risk

ENTITY_TYPES = ("PERSON", "UK_UPN", "UK_ULN", "UK_NHS", "UK_NINO", "UK_PASSPORT", "UK_POSTCODE",
                "PHONE_NUMBER", "EMAIL_ADDRESS", "DATE_OF_BIRTH", "SPECIAL_CATEGORY",
                "GPS_LOCATION")
IDENTIFYING = frozenset(ENTITY_TYPES) - {"SPECIAL_CATEGORY", "UK_POSTCODE", "EMAIL_ADDRESS",
                                         "PHONE_NUMBER"}


def is_special_category(counts: Mapping[str, int]) -> bool:
    return counts.get("SPECIAL_CATEGORY", 0) > 0 and any(counts.get(e, 0) for e in IDENTIFYING)


def score(counts: Mapping[str, int], audience: str, risk: Risk) -> tuple[float, str]:
    total = 0.0
    for entity, n in counts.items():
        if entity == "SPECIAL_CATEGORY" and not is_special_category(counts):
            continue
        total += risk.entity_weights.get(entity, 1.0) * min(n, risk.count_cap)
    total *= risk.audience_factors.get(audience, 1.0)
    for level, floor in sorted(risk.levels.items(), key=lambda kv: -kv[1]):
        if total >= floor:
            return round(total, 2), level
    return round(total, 2), "none"
