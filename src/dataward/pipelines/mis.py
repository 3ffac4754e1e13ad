"""Readers for the MIS exports: leavers, pupils on roll, photo consent (retention), staff
with leaving dates (the accounts audit).

Exports come from SIMS, Arbor or Bromcom, often through Excel, so they arrive with
byte-order marks, in Windows-1252, with ';' or tab separators, and with dates in any of
the usual UK shapes. Columns are found by their usual headings. Every problem is
reported with its line number; a row-level problem that would change the plan is an
error (InputError, exit 65), a doubtful row is a warning. Messages never repeat a
name, UPN or other cell value: line numbers and column headings only.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..connectors.schoolcsv import (
    FORENAME_HEADERS,
    FULLNAME_HEADERS,
    LEAVE_HEADERS,
    PREFERRED_HEADERS,
    SURNAME_HEADERS,
    UPN_HEADERS,
    decode_export,
    find_column,
    parse_date,
)
from ..errors import InputError
from .names import normalise_upn, upn_valid

MAX_ERRORS_SHOWN = 8

# Headings for each field: the one list every school CSV reader uses.
UPN_COLS = UPN_HEADERS
FORENAME_COLS = FORENAME_HEADERS
PREFERRED_COLS = PREFERRED_HEADERS
SURNAME_COLS = SURNAME_HEADERS
FULLNAME_COLS = FULLNAME_HEADERS
LEAVE_COLS = LEAVE_HEADERS
CONSENT_TYPE_COLS = ("consent", "consenttype", "type", "consentname", "permission")
CONSENT_GIVEN_COLS = ("given", "status", "granted", "response", "value", "answer")
YES = {"y", "yes", "true", "1", "granted", "given", "agreed", "consented", "x"}


@dataclass(frozen=True)
class CsvIssue:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.message}"


@dataclass(frozen=True)
class Pupil:
    """One pupil from an MIS export. ``leave_date`` is None for a pupil on roll."""

    upn: str | None
    forename: str
    surname: str
    preferred: str | None
    leave_date: date | None
    line: int
    source: str  # "leavers" or "on-roll"

    @property
    def key(self) -> str:
        return self.upn or f"{self.source}-line-{self.line}"


@dataclass
class PupilList:
    path: Path
    encoding: str
    pupils: list[Pupil]
    warnings: list[CsvIssue] = field(default_factory=list)


@dataclass
class ConsentList:
    path: Path
    encoding: str
    by_upn: dict[str, frozenset[str]]
    warnings: list[CsvIssue] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # UPN -> first line


def read_text(path: Path) -> tuple[str, str, list[str]]:
    """Read and decode an export (``connectors.schoolcsv.decode_export``).
    Returns (text, encoding name, notes)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"the MIS export {path} does not exist",
                         hint="check the retention paths in the config") from None
    except OSError as exc:
        raise InputError(f"cannot read the MIS export {path}: {exc.strerror}") from None
    return decode_export(data)


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]], str, list[CsvIssue]]:
    text, encoding, notes = read_text(path)
    issues = [CsvIssue(path.name, 1, n) for n in notes]
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    delim = max((",", ";", "\t", "|"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if header is None:
                if any(c.strip() for c in cells):
                    header = [c.strip().lstrip("\ufeff") for c in cells]
                continue
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise InputError(f"{path.name} line {reader.line_num}: not readable as CSV ({exc})") from None
    if header is None:
        raise InputError(f"{path.name} is empty: no heading row and no data",
                         hint="export the report again from the MIS")
    return header, rows, encoding, issues


_find = find_column


def _cell(cells: list[str], idx: int | None) -> str:
    if idx is None or idx >= len(cells):
        return ""
    return cells[idx].strip()


def _split_full_name(full: str) -> tuple[str, str]:
    if "," in full:  # "Surname, Forename" as SIMS prints it
        surname, _, forename = full.partition(",")
        return forename.strip(), surname.strip()
    parts = full.split()
    if len(parts) < 2:
        return full.strip(), ""
    return " ".join(parts[:-1]), parts[-1]


def _missing(what: list[tuple[str, tuple[str, ...]]], header: list[str], name: str) -> InputError:
    wanted = "; ".join(f"{label} (one of: {', '.join(cols)})" for label, cols in what)
    found = ", ".join(repr(h) for h in header) or "none"
    return InputError(f"{name} is missing column(s): {wanted}. Headings found: {found}",
                      hint="export the report again with those columns, or rename the headings")


def read_pupils(path: Path, *, leavers: bool) -> PupilList:
    """Read a leavers export (leavers=True: leave dates required) or an on-roll export."""
    source = "leavers" if leavers else "on-roll"
    header, rows, encoding, issues = _rows(path)
    i_upn, i_fore = _find(header, UPN_COLS), _find(header, FORENAME_COLS)
    i_sur, i_full = _find(header, SURNAME_COLS), _find(header, FULLNAME_COLS)
    i_pref, i_leave = _find(header, PREFERRED_COLS), _find(header, LEAVE_COLS)
    missing: list[tuple[str, tuple[str, ...]]] = []
    if i_upn is None:
        missing.append(("UPN", UPN_COLS))
    if i_full is None and (i_fore is None or i_sur is None):
        missing.append(("names: forename and surname, or a full name",
                        FORENAME_COLS[:2] + SURNAME_COLS[:2] + FULLNAME_COLS[:1]))
    if leavers and i_leave is None:
        missing.append(("leave date", LEAVE_COLS[:4]))
    if missing:
        raise _missing(missing, header, path.name)
    if not rows:
        raise InputError(f"{path.name} has a heading row but no pupils",
                         hint="an empty export would give an empty plan; export it again")

    errors: list[CsvIssue] = []
    pupils: list[Pupil] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        upn_raw = _cell(cells, i_upn)
        upn = normalise_upn(upn_raw) or None
        if i_fore is not None and i_sur is not None and (_cell(cells, i_fore) or _cell(cells, i_sur)):
            forename, surname = _cell(cells, i_fore), _cell(cells, i_sur)
        else:
            forename, surname = _split_full_name(_cell(cells, i_full))
        preferred = _cell(cells, i_pref) or None
        if upn is None and not (forename and surname):
            errors.append(CsvIssue(path.name, line, "no UPN and no full name: the row names nobody"))
            continue
        if upn is None:
            issues.append(CsvIssue(path.name, line, "no UPN: matched by name only"))
        elif not upn_valid(upn):
            issues.append(CsvIssue(path.name, line, "the UPN fails its check letter "
                                   "(a typing error in the MIS?); it is used as written"))
        if not (forename and surname):
            issues.append(CsvIssue(path.name, line, "no full name: matched by UPN only"))
        leave: date | None = None
        if leavers and i_leave is not None:  # None only when not leavers (refused above)
            raw = _cell(cells, i_leave)
            if not raw:
                errors.append(CsvIssue(path.name, line, f"the leave date ({header[i_leave]!r}) is empty"))
                continue
            try:
                leave = parse_date(raw)
            except ValueError as exc:
                errors.append(CsvIssue(path.name, line, f"the leave date {exc}"))
                continue
        pupil = Pupil(upn, forename, surname, preferred, leave, line, source)
        if upn is not None and upn in seen:
            first = pupils[seen[upn]]
            issues.append(CsvIssue(path.name, line, f"the same UPN as line {first.line} "
                                   "(duplicate row); the later leave date is used"))
            if leave is not None and first.leave_date is not None and leave > first.leave_date:
                pupils[seen[upn]] = Pupil(first.upn, first.forename, first.surname,
                                          first.preferred, leave, first.line, source)
            continue
        if upn is not None:
            seen[upn] = len(pupils)
        pupils.append(pupil)
    if errors:
        shown = "; ".join(str(e) for e in errors[:MAX_ERRORS_SHOWN])
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise InputError(f"{len(errors)} problem(s) in {path.name}: {shown}{more}",
                         hint="correct the export; nothing was planned")
    return PupilList(path, encoding, pupils, issues)


def read_consents(path: Path) -> ConsentList:
    """A photo consent export: one row per pupil with yes/no columns per consent kind,
    or one row per consent with a type column (and optionally a given/status column)."""
    header, rows, encoding, issues = _rows(path)
    i_upn = _find(header, UPN_COLS)
    if i_upn is None:
        raise _missing([("UPN", UPN_COLS)], header, path.name)
    i_type, i_given = _find(header, CONSENT_TYPE_COLS), _find(header, CONSENT_GIVEN_COLS)
    skip = {i_upn} | {i for i in (_find(header, FORENAME_COLS), _find(header, SURNAME_COLS),
                                  _find(header, FULLNAME_COLS), _find(header, PREFERRED_COLS))
                      if i is not None}
    kinds: dict[str, set[str]] = defaultdict(set)
    lines: dict[str, int] = {}
    for line, cells in rows:
        upn = normalise_upn(_cell(cells, i_upn))
        if not upn:
            issues.append(CsvIssue(path.name, line, "no UPN: the consent row is ignored"))
            continue
        lines.setdefault(upn, line)
        if i_type is not None:
            given = i_given is None or _cell(cells, i_given).lower() in YES
            if given and _cell(cells, i_type):
                kinds[upn].add(_cell(cells, i_type).lower())
            else:
                kinds.setdefault(upn, set())
            continue
        kinds.setdefault(upn, set())
        for idx, heading in enumerate(header):
            if idx not in skip and _cell(cells, idx).lower() in YES:
                kinds[upn].add(heading.lower())
    return ConsentList(path, encoding, {u: frozenset(k) for u, k in kinds.items()}, issues, lines)


def cross_check(leavers: PupilList, on_roll: PupilList | None,
                consents: ConsentList | None) -> list[CsvIssue]:
    """Warnings that need more than one file: a leaver still on roll, consent for an
    unknown UPN."""
    issues: list[CsvIssue] = []
    roll = {p.upn: p for p in on_roll.pupils if p.upn} if on_roll else {}
    for p in leavers.pupils:
        if on_roll is not None and p.upn and p.upn in roll:
            issues.append(CsvIssue(leavers.path.name, p.line, "this pupil is also on roll "
                                   f"({on_roll.path.name} line {roll[p.upn].line}); "
                                   "treated as on roll, so their images are kept"))
    if consents:
        known = {p.upn for p in leavers.pupils if p.upn} | set(roll)
        for upn in consents.by_upn:
            if upn not in known:
                issues.append(CsvIssue(consents.path.name, consents.lines.get(upn, 0),
                                       "unknown UPN: no leaver and no pupil on roll has it;"
                                       " the row is ignored"))
    return issues


STAFF_CODE_COLS = ("staffcode", "staffid", "payrollnumber", "employeeid", "employeenumber", "code")
EMAIL_COLS = ("email", "emailaddress", "workemail", "schoolemail")
STAFF_LEAVE_COLS = LEAVE_COLS + ("employmentenddate", "contractenddate", "enddateofemployment")


@dataclass(frozen=True)
class StaffMember:
    """One member of staff from an MIS staff export; ``leave_date`` None while employed."""

    code: str
    forename: str
    surname: str
    email: str
    leave_date: date | None
    line: int


def read_staff(path: Path) -> tuple[list[StaffMember], list[CsvIssue]]:
    """A staff export (SIMS 'Staff Details', Arbor 'Staff'): names, a staff code or
    e-mail, and a leaving date for those who have left. Same reading rules as pupils."""
    header, rows, _encoding, issues = _rows(path)
    i_fore, i_sur = _find(header, FORENAME_COLS), _find(header, SURNAME_COLS)
    i_full, i_code = _find(header, FULLNAME_COLS + ("staffname",)), _find(header, STAFF_CODE_COLS)
    i_mail, i_leave = _find(header, EMAIL_COLS), _find(header, STAFF_LEAVE_COLS)
    if i_full is None and (i_fore is None or i_sur is None):
        raise _missing([("names: forename and surname, or a full name",
                         FORENAME_COLS[:2] + SURNAME_COLS[:2] + FULLNAME_COLS[:1])], header, path.name)
    staff: list[StaffMember] = []
    errors: list[CsvIssue] = []
    for line, cells in rows:
        if i_fore is not None and i_sur is not None and (_cell(cells, i_fore) or _cell(cells, i_sur)):
            forename, surname = _cell(cells, i_fore), _cell(cells, i_sur)
        else:
            forename, surname = _split_full_name(_cell(cells, i_full))
        leave: date | None = None
        raw = _cell(cells, i_leave)
        if raw:
            try:
                leave = parse_date(raw)
            except ValueError as exc:
                errors.append(CsvIssue(path.name, line, f"the leaving date {exc}"))
                continue
        staff.append(StaffMember(_cell(cells, i_code), forename, surname,
                                 _cell(cells, i_mail).lower(), leave, line))
    if errors:
        shown = "; ".join(str(e) for e in errors[:MAX_ERRORS_SHOWN])
        raise InputError(f"{len(errors)} problem(s) in {path.name}: {shown}",
                         hint="correct the export; nothing was audited")
    return staff, issues
