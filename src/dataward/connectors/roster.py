"""Names exports from the school's MIS (SIMS, Arbor, Bromcom) as CSV.

Schools export pupils, staff and parents/carers with headers such as "Legal Forename",
"Preferred Forename", "Surname" or a single "Full Name"/"Name" column. Headers are matched
case- and punctuation-insensitively (``connectors.schoolcsv``, shared with retention
and the asset inventory). Each person becomes one canonical full name
("forename surname", case-folded) plus the other ways documents write it."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, NotFoundError
from .names import fold_name, name_forms
from .schoolcsv import (
    FORENAME_HEADERS,
    FULLNAME_HEADERS,
    PREFERRED_HEADERS,
    SURNAME_HEADERS,
    decode_export,
    looks_utf16,
    norm_header,
)

# A name shorter than this is too likely to be an ordinary word.
MIN_NAME_CHARS = 2


def canonical(name: str) -> str:
    """The form every fingerprint of a name is taken from (``connectors.names.fold_name``:
    the rule retention uses too)."""
    return fold_name(name)


@dataclass(frozen=True)
class Person:
    canonical: str                 # "forename surname", case-folded
    variants: tuple[str, ...]      # every written form to look for, case-folded
    kind: str                      # pupils | staff | contacts


@dataclass
class Roster:
    people: list[Person] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.people)

    def extend(self, other: Roster) -> None:
        self.people.extend(other.people)


def _variants(forenames: Iterable[str], surname: str) -> tuple[str, ...]:
    out: list[str] = []
    for fn in forenames:
        if not fn:
            continue
        out += [f"{fn} {surname}", f"{surname}, {fn}", f"{surname} {fn}"]
    return tuple(dict.fromkeys(f for v in out if v.strip() for f in name_forms(v)))


def load_roster(path: Path, kind: str = "pupils") -> Roster:
    """Read one MIS export. Raises InputError naming the headers found when no name
    columns are recognised."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"roster {path} is missing",
                            hint="check its path under `rosters:` in the config, or export "
                                 "it again from the MIS") from None
    except OSError as exc:
        raise InputError(f"cannot read roster {path}: {exc.strerror}") from None
    kind_of_file = _not_csv(raw)
    if kind_of_file:
        raise InputError(f"roster {path} is not a CSV file (it looks like {kind_of_file})",
                         hint="export the list from the MIS as CSV, or in Excel use "
                              "Save As > CSV UTF-8")
    text = decode_export(raw)[0]
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return _read_people(reader, path, kind)
    except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
        raise InputError(f"roster {path} line {reader.line_num}: not readable as CSV ({exc})",
                         hint="export the roster again from the MIS") from None


def _read_people(reader: Iterator[list[str]], path: Path, kind: str) -> Roster:
    header = next(reader, None)
    if not header:
        raise InputError(f"roster {path} is empty: it lists nobody",
                         hint="export it again from the MIS, or remove it from `rosters:`")
    keys = [norm_header(h) for h in header]

    def col(options: tuple[str, ...]) -> int | None:
        for opt in options:
            if opt in keys:
                return keys.index(opt)
        return None

    fn, pref, sn, full = col(FORENAME_HEADERS), col(PREFERRED_HEADERS), col(SURNAME_HEADERS), col(FULLNAME_HEADERS)
    if not ((fn is not None or pref is not None) and sn is not None) and full is None:
        found = ", ".join(repr(h) for h in header[:12])
        raise InputError(
            f"roster {path}: no name columns recognised; headers found: {found}",
            hint="expected Forename/Legal Forename/Preferred Forename with Surname, or Full Name",
        )
    roster = Roster()
    for row in reader:
        def cell(i: int | None, row: list[str] = row) -> str:
            return row[i].strip() if i is not None and i < len(row) else ""
        surname = cell(sn)
        forenames = [cell(fn), cell(pref)]
        if surname and any(forenames):
            primary = next(f for f in forenames if f)
            variants = _variants(forenames, surname)
            person_canonical = canonical(f"{primary} {surname}")
        elif cell(full):
            name = cell(full)
            if "," in name:  # "Surname, Forename"
                s, _, f = name.partition(",")
                variants, person_canonical = _variants([f.strip()], s.strip()), canonical(f"{f} {s}")
            else:
                variants, person_canonical = name_forms(name), canonical(name)
        else:
            continue
        if len(person_canonical) >= MIN_NAME_CHARS and " " in person_canonical:
            roster.people.append(Person(person_canonical, variants, kind))
    if not roster.people:
        # An empty list would find no names at all, silently: say so.
        raise InputError(f"roster {path} lists nobody: it has headers but no rows with names",
                         hint="export it again from the MIS, or remove it from `rosters:`")
    return roster


# Files people pick by mistake, by their first bytes.
_NOT_CSV = ((b"PK\x03\x04", "a Word or Excel document, or a zip archive"),
            (b"\xd0\xcf\x11\xe0", "an old Word or Excel (.doc/.xls) document"),
            (b"%PDF", "a PDF"), (b"{\\rtf", "an RTF document"))


def _not_csv(raw: bytes) -> str | None:
    """What a file that is no CSV export looks like, or None. Never quotes its bytes."""
    for magic, what in _NOT_CSV:
        if raw.startswith(magic):
            return what
    head = raw[:4096]
    if b"\x00" in head and not looks_utf16(raw):
        return "a binary file"
    return None


def load_rosters(specs: Iterable[tuple[Path, str]]) -> Roster:
    roster = Roster()
    for path, kind in specs:
        roster.extend(load_roster(path, kind))
    return roster
