"""Subject access search: where does this person's data appear?

The values the DPO types (a name, a date of birth, a UPN, an NHS number...) are normalised
exactly as the scan normalised what it found, fingerprinted with the school's key, and
looked up in the scans' findings.parquet. The values themselves are kept in memory only
for as long as it takes to fingerprint them; nothing is written, logged or stored, and the
answer holds locators, entity types and counts.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..classifiers.fingerprint import Fingerprinter
from ..classifiers.recognizers import (
    SchoolEmailRecognizer, UkNhsRecognizer, UkNinoRecognizer, UkPhoneRecognizer,
    UkPostcodeRecognizer, UkUlnRecognizer, UkUpnRecognizer,
)
from ..classifiers.recognizers.date_of_birth import parse_date
from ..connectors.roster import canonical
from ..errors import NotFoundError, UsageError
from ..home import fingerprint_key
from ..ledger import Ledger, ledger_for
from ..settings import Settings
from .outputs import FINDINGS_FILE, ITEMS_FILE

# option name -> (entity type, recognizer whose normalise() the scan used)
IDENTIFIERS = {
    "upn": ("UK_UPN", UkUpnRecognizer), "uln": ("UK_ULN", UkUlnRecognizer),
    "nhs": ("UK_NHS", UkNhsRecognizer), "nino": ("UK_NINO", UkNinoRecognizer),
    "email": ("EMAIL_ADDRESS", SchoolEmailRecognizer), "phone": ("PHONE_NUMBER", UkPhoneRecognizer),
    "postcode": ("UK_POSTCODE", UkPostcodeRecognizer),
}


@dataclass(frozen=True)
class SubjectQuery:
    """What the DPO knows about the person. Values are never written anywhere."""
    name: str | None = None
    dob: str | None = None
    upn: str | None = None
    uln: str | None = None
    nhs: str | None = None
    nino: str | None = None
    email: str | None = None
    phone: str | None = None
    postcode: str | None = None

    def given(self) -> list[str]:
        return [k for k, v in self.__dict__.items() if v and str(v).strip()]


@dataclass(frozen=True)
class SubjectHit:
    scan_id: str
    locator: str
    path: str
    source: str
    audience: str
    risk_level: str
    counts: dict[str, int] = field(default_factory=dict)  # entity type -> occurrences

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class SubjectResult:
    scans: list[str]
    searched: list[str]          # which kinds of value were searched (never the values)
    hits: list[SubjectHit]
    warnings: list[str]


def name_forms(name: str) -> list[str]:
    """The canonical forms a written name may have had in the scan: "Khan, Amelia" is
    fingerprinted as "amelia khan", as the roster recognizer does."""
    forms = [canonical(name)]
    if "," in name:
        surname, _, forename = name.partition(",")
        forms.append(canonical(f"{forename} {surname}"))
    return list(dict.fromkeys(f for f in forms if f))


def fingerprints(query: SubjectQuery, fp: Fingerprinter) -> tuple[dict[str, str], list[str]]:
    """fingerprint -> entity type, and warnings about values the scan could never find."""
    out: dict[str, str] = {}
    warnings: list[str] = []
    if query.name and query.name.strip():
        for form in name_forms(query.name):
            out[fp("PERSON", form)] = "PERSON"
        if " " not in canonical(query.name).replace(",", " ").strip():
            warnings.append("names are found as forename and surname together; "
                            "a single name matches nothing")
    if query.dob and query.dob.strip():
        parsed = parse_date(query.dob)
        if parsed is None:
            raise UsageError("the date of birth is not a date dataward can read",
                             hint="write it as DD/MM/YYYY or YYYY-MM-DD")
        out[fp("DATE_OF_BIRTH", parsed.isoformat())] = "DATE_OF_BIRTH"
    for option, (entity, rec) in IDENTIFIERS.items():
        value = getattr(query, option)
        if not value or not value.strip():
            continue
        recognizer = rec()
        if hasattr(recognizer, "validate_result") and recognizer.validate_result(value.strip()) is False:
            warnings.append(f"the {option.upper()} given fails its check; the scan records only "
                            f"valid ones, so it can match nothing")
        out[fp(entity, rec.normalise(value))] = entity
    if not out:
        raise UsageError("give at least one of --name, --dob, --upn, --nhs (or another identifier)")
    return out, warnings


def _scan_dirs(ledger: Ledger, scan: str, all_scans: bool) -> list[tuple[str, Path]]:
    if not all_scans:
        row = ledger.get_scan(scan)
        return [(row.scan_id, Path(row.out_dir))]
    dirs = [(r.scan_id, Path(r.out_dir)) for r in ledger.scan_rows()
            if r.status in ("complete", "partial")]
    if not dirs:
        raise NotFoundError("no complete scan in the ledger", hint="run `dataward scan` first")
    return dirs


def search_scan(scan_id: str, scan_dir: Path, fps: dict[str, str]) -> list[SubjectHit]:
    """The items of one scan holding any of ``fps`` (fingerprint -> entity type)."""
    if not (scan_dir / FINDINGS_FILE).exists():
        return []
    t = pq.read_table(scan_dir / FINDINGS_FILE, columns=["locator", "entity_type", "fingerprint"],
                      filters=[("fingerprint", "in", list(fps))])
    # The fingerprint names its entity type; match both so a collision across types cannot count.
    keep = [fps.get(f) == e for f, e in zip(t["fingerprint"].to_pylist(), t["entity_type"].to_pylist())]
    t = t.filter(pa.array(keep, pa.bool_())) if t.num_rows else t
    if not t.num_rows:
        return []
    counts: dict[str, Counter[str]] = {}
    for loc, ent in zip(t["locator"].to_pylist(), t["entity_type"].to_pylist()):
        counts.setdefault(loc, Counter())[ent] += 1
    items = pq.read_table(scan_dir / ITEMS_FILE,
                          columns=["locator", "path", "source", "audience", "risk_level"])
    items = items.filter(pc.is_in(items["locator"], value_set=pa.array(list(counts))))
    meta = {r["locator"]: r for r in items.to_pylist()}
    hits = []
    for loc, c in counts.items():
        m = meta.get(loc, {})
        hits.append(SubjectHit(scan_id, loc, m.get("path", ""), m.get("source", ""),
                               m.get("audience", ""), m.get("risk_level", ""), dict(c)))
    return sorted(hits, key=lambda h: (-h.total, h.locator))


def find_subject(settings: Settings, query: SubjectQuery, *, scan: str = "latest",
                 all_scans: bool = False, ledger: Ledger | None = None) -> SubjectResult:
    """Every item of the scan (or of every scan) where any of the given values occurs."""
    fp = Fingerprinter(fingerprint_key(settings))
    fps, warnings = fingerprints(query, fp)
    with ledger_for(settings, ledger) as led:
        dirs = _scan_dirs(led, scan, all_scans)
    hits: list[SubjectHit] = []
    for scan_id, d in dirs:
        hits.extend(search_scan(scan_id, d, fps))
    return SubjectResult([s for s, _ in dirs], query.given(), hits, warnings)
