"""What decides a scan's results, recorded for every source of every scan, so that a result
is reused only while everything that decided it is unchanged (DESIGN.md invariant 7).

A source's *basis* has three kinds of parts, by what a change costs:

* read parts (dataward's version, the classifier and extractor code, the recognizer set,
  the special-category terms, the scan settings that decide findings): a change means
  every file of the source is read again;
* the roster (a keyed digest of every written form of every name): a change means the
  files that may hold an added name (the name index says which) or that held a removed
  one are read again; the rest keep their results;
* risk (weights, caps, levels, audience factors, the source's audience): a change means
  risk scores are computed again from the stored counts, and no file is read.

The roster itself is recorded as keyed digests only (``rosters/<digest>.json`` in the
state folder): digests of each written form, and the PERSON fingerprint it maps to.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

import dataward

from ..classifiers import name_index
from ..classifiers.fingerprint import Fingerprinter
from ..classifiers.risk import ENTITY_TYPES
from ..classifiers.risk import score as risk_score
from .outputs import COUNT_COLUMNS

if TYPE_CHECKING:
    from ..connectors.roster import Roster
    from ..settings import Settings

READ_PARTS = ("dataward", "code", "recognizers", "terms", "settings", "groups")
# Scan settings that change how long or how a scan runs, never what it finds.
NOT_DECIDING = {"workers", "item_timeout_s", "item_memory_mb", "vanish_min_items",
                "vanish_fraction"}
# The code whose change can change findings (besides the classifiers package).
# connectors/names.py and roster.py: how names are folded and which written forms are
# looked for decide PERSON findings and their fingerprints.
CODE_FILES = ("pipelines/scan_item.py", "pipelines/mail_policy.py", "connectors/names.py",
              "connectors/roster.py")
LABELS = {"dataward": "dataward version", "code": "classifier or extractor code",
          "recognizers": "recognizer set", "terms": "special-category terms",
          "settings": "scan settings", "groups": "group memberships in the directory (SMB)"}


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Digest of the code that turns bytes into findings (recognizers, extractors, engine)."""
    pkg = Path(__file__).resolve().parents[1]
    files = sorted((pkg / "classifiers").rglob("*.py")) + [pkg / f for f in CODE_FILES]
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(pkg).as_posix().encode() + b"\0")
        h.update(f.read_bytes() if f.exists() else b"")
    return h.hexdigest()[:32]


def _json_digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def deciding_settings(settings: Settings) -> dict[str, Any]:
    """The settings that decide findings, as plain values (no personal data: thresholds,
    caps, the NER model's name, the mail rules)."""
    scan = settings.scan.model_dump(mode="json", exclude=NOT_DECIDING)
    return {"scan": scan, "mail": settings.mail.model_dump(mode="json"),
            "school_domains": sorted(settings.school.domains)}


@dataclass(frozen=True)
class RosterRecord:
    digest: str
    variants: dict[str, str]        # keyed digest of a written form -> PERSON fingerprint

    @property
    def people(self) -> set[str]:
        return set(self.variants.values())


def roster_record(roster: Roster, key: bytes) -> RosterRecord:
    fp, ikey = Fingerprinter(key), name_index.index_key(key)
    variants = {}
    for person in roster.people:
        person_fp = fp("PERSON", person.canonical)
        for v in person.variants:
            variants[name_index.fingerprint_of_variant(ikey, v)] = person_fp
    digest = name_index.digest_of(f"{v}:{p}" for v, p in sorted(variants.items()))
    return RosterRecord(digest, variants)


def save_roster_record(home: Path, record: RosterRecord) -> None:
    path = home / "rosters" / f"{record.digest}.json"
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(record.variants, fh)
    tmp.replace(path)


def load_roster_record(home: Path, digest: str) -> RosterRecord | None:
    try:
        return RosterRecord(digest, json.loads((home / "rosters" / f"{digest}.json").read_text()))
    except (OSError, ValueError):
        return None


def basis_for(settings: Settings, roster_digest: str, audience: str) -> dict[str, Any]:
    """The basis of a source scanned now with these settings."""
    # Names and term lists only: Presidio is not loaded for them (the scanning process
    # whose workers come from a worker host never loads it).
    from ..classifiers.recognizers import PATTERN_RECOGNIZER_NAMES
    from ..classifiers.recognizers.special_category import NOT_TERMS, TERMS
    return {
        "dataward": dataward.__version__,
        "code": code_digest(),
        "recognizers": sorted([*PATTERN_RECOGNIZER_NAMES]
                              + ["RosterNameRecognizer", "SpecialCategoryRecognizer"]),
        "terms": _json_digest([TERMS, NOT_TERMS]),  # and the role names that are not terms
        "settings": deciding_settings(settings),
        "roster": roster_digest,
        "risk": _json_digest(settings.risk.model_dump(mode="json")),
        "audience": audience,
    }


@dataclass
class RosterChange:
    added: int = 0                      # people now on the roster who were not
    removed: int = 0
    changed: int = 0                    # people with a written form added or dropped
    new_names: list[list[str]] = field(default_factory=list)   # tokens, in memory only
    gone_people: set[str] = field(default_factory=set)         # PERSON fingerprints

    def describe(self) -> str:
        parts = [f"{plural(n, 'name')} {what}" for n, what in
                 ((self.added, "added"), (self.removed, "removed"), (self.changed, "changed")) if n]
        return ", ".join(parts) or "written forms changed"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def roster_change(roster: Roster, key: bytes, old: RosterRecord, new: RosterRecord) -> RosterChange:
    """What changed between two rosters, with the tokens of every new written form."""
    ikey = name_index.index_key(key)
    fp = Fingerprinter(key)
    change = RosterChange()
    old_people, new_people = old.people, new.people
    touched: set[str] = set()
    for person in roster.people:
        for v in person.variants:
            if name_index.fingerprint_of_variant(ikey, v) not in old.variants:
                change.new_names.append(name_index.name_tokens(v))
                touched.add(fp("PERSON", person.canonical))
    dropped = {p for v, p in old.variants.items() if v not in new.variants}
    change.gone_people = dropped
    change.added = len(new_people - old_people)
    change.removed = len(old_people - new_people)
    change.changed = len((touched | dropped) & old_people & new_people)
    return change


@dataclass
class SourcePlan:
    """How much of one source's last results the scan may keep, and why."""
    name: str
    reread: str | None = None           # why every file is read again
    roster: RosterChange | None = None
    rescore: bool = False


def plan_source(name: str, old: dict[str, Any] | None, new: dict[str, Any],
                had_items: bool) -> SourcePlan:
    plan = SourcePlan(name)
    if old is None:
        if had_items:
            plan.reread = "no record of what decided its last results (an older dataward)"
        return plan
    changed = [k for k in READ_PARTS if old.get(k) != new.get(k)]
    if changed:
        what = []
        for k in changed:
            if k == "dataward":
                what.append(f"dataward version changed ({old.get(k)} -> {new[k]})")
            elif k == "settings":
                keys = _changed_keys(old.get(k) or {}, new[k])
                what.append("scan settings changed (" + ", ".join(keys) + ")")
            else:
                what.append(f"{LABELS[k]} changed")
        plan.reread = "; ".join(what)
        return plan
    plan.rescore = old.get("risk") != new["risk"] or old.get("audience") != new["audience"]
    return plan


def _changed_keys(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _changed_keys(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}")
    return out


def rescore(items: pa.Table, settings: Settings, audiences: dict[str, tuple[str, str]]) -> pa.Table:
    """Risk scores and levels of ``items`` computed again from their stored counts, for
    rows of the sources in ``audiences`` (source -> (old audience, new audience)). A row
    whose audience was its source's is given the source's new audience; a row with its
    own (a message sent outside the school) keeps it."""
    if not audiences or items.num_rows == 0:
        return items
    cols = items.select(["source", "audience", "risk_score", "risk_level", *COUNT_COLUMNS]).to_pydict()
    for i, src in enumerate(cols["source"]):
        if src not in audiences:
            continue
        old_aud, new_aud = audiences[src]
        if cols["audience"][i] == old_aud:
            cols["audience"][i] = new_aud
        counts = {e: cols[c][i] for e, c in zip(ENTITY_TYPES, COUNT_COLUMNS) if cols[c][i]}
        cols["risk_score"][i], cols["risk_level"][i] = risk_score(counts, cols["audience"][i], settings.risk)
    for name in ("audience", "risk_score", "risk_level"):
        idx = items.schema.get_field_index(name)
        items = items.set_column(idx, items.schema.field(idx), pa.array(cols[name], items.schema.field(idx).type))
    return items
