"""The risk score of one item: what it holds, weighed by who can open where it sits.

score = (sum over entity types of weight x min(count, cap)) x audience factor.
A finding in a mail header (From, To...) counts ``risk.mail_header_weight`` of one, and an
address at the school's own domain there ``risk.school_address_weight`` (staff write to
each other all day: their addresses are not the exposure a parent's home address is).
Special-category terms count only beside something that identifies a person: a leaflet
about asthma is not a pupil's health record; a letter naming a pupil and their asthma is.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..settings import Risk

if TYPE_CHECKING:
    from .engine import Finding

ENTITY_TYPES = ("PERSON", "UK_UPN", "UK_ULN", "UK_NHS", "UK_NINO", "UK_PASSPORT", "UK_POSTCODE",
                "PHONE_NUMBER", "EMAIL_ADDRESS", "DATE_OF_BIRTH", "SPECIAL_CATEGORY",
                "GPS_LOCATION")
IDENTIFYING = frozenset(ENTITY_TYPES) - {"SPECIAL_CATEGORY", "UK_POSTCODE", "EMAIL_ADDRESS",
                                         "PHONE_NUMBER"}


def is_special_category(counts: Mapping[str, float]) -> bool:
    return counts.get("SPECIAL_CATEGORY", 0) > 0 and any(counts.get(e, 0) for e in IDENTIFYING)


def score(counts: Mapping[str, float], audience: str, risk: Risk,
          special: bool | None = None) -> tuple[float, str]:
    """``special``: whether the item is special category (default: judged from
    ``counts``; the scan judges it without mail-header findings)."""
    special = is_special_category(counts) if special is None else special
    total = 0.0
    for entity, n in counts.items():
        if entity == "SPECIAL_CATEGORY" and not special:
            continue
        total += risk.entity_weights.get(entity, 1.0) * min(n, risk.count_cap)
    total *= risk.audience_factors.get(audience, 1.0)
    for level, floor in sorted(risk.levels.items(), key=lambda kv: -kv[1]):
        if total >= floor:
            return round(total, 2), level
    return round(total, 2), "none"


MAIL_HEADERS = frozenset({"from", "sender", "reply-to", "to", "cc", "bcc"})


def weighted_counts(findings: Iterable[Finding], risk: Risk,
                    school_domains: Iterable[str] = ()) -> dict[str, float]:
    """Counts per entity type for the score: mail-header findings weigh less, the
    school's own addresses in headers least."""
    domains = tuple(d.lower().strip().lstrip("@").rstrip(".") for d in school_domains if d)
    counts: dict[str, float] = {}
    for f in findings:
        weight = 1.0
        if f.where in MAIL_HEADERS:
            weight = risk.mail_header_weight
            if f.entity_type == "EMAIL_ADDRESS" and _is_school(f.preview, domains):
                weight = risk.school_address_weight
        counts[f.entity_type] = counts.get(f.entity_type, 0.0) + weight
    return counts


def _is_school(preview: str, domains: tuple[str, ...]) -> bool:
    domain = preview.rpartition("@")[2].lower()
    return any(domain == d or domain.endswith("." + d) for d in domains)


def outside_headers(findings: Iterable[Finding]) -> Counter[str]:
    """Counts of findings outside mail headers: what decides special category (a term in a
    message from a named member of staff is not about that person)."""
    return Counter(f.entity_type for f in findings if f.where not in MAIL_HEADERS)
