"""The accounts audit, a pure function of the MIS lists and the directories' accounts.

Three findings:

* ``leaver-enabled``: the account of a pupil or member of staff who left more than
  ``accounts.disable_within_days`` ago is still enabled;
* ``shared-password``: a shared or generic account (``accounts.shared_accounts``) whose
  password is older than ``accounts.password_max_age_days`` (or was never set);
* ``no-match``: an enabled account that matches no one on roll or on the staff list.

Accounts are matched to people by employee id (a pupil's UPN or a staff code), then by
e-mail, then by name (the same name tokens retention matches images with). A name that
two people share matches neither: the account is reported, never guessed.
"""
from __future__ import annotations

import fnmatch
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from ..classifiers.fingerprint import mask
from ..connectors.directory import Account
from ..pipelines.mis import Pupil, StaffMember
from ..pipelines.names import normalise_upn, tokens
from ..settings import Accounts

LEAVER, SHARED, NO_MATCH = "leaver-enabled", "shared-password", "no-match"


@dataclass(frozen=True)
class PersonRef:
    kind: str            # pupil | staff
    ref: str             # P-... / S-...: a keyed hash, never the name
    leave_date: date | None
    on_roll: bool        # a pupil on roll or a member of staff still employed


@dataclass(frozen=True)
class AccountFinding:
    kind: str
    directory: str
    key: str             # objectGUID or the export's e-mail (what apply acts on)
    login: str           # the account name, for the terminal only
    masked: str          # what files, the ledger and reports hold
    person: str          # "pupil P-..." or "staff S-..." or ""
    left: date | None
    days: int | None     # days since leaving, or the password's age
    enabled: bool
    uac: int | None
    last_logon: date | None = None

    @property
    def why(self) -> str:
        seen = f"; last logon {self.last_logon}" if self.last_logon else "; never logged on"
        if self.kind == LEAVER:
            return (f"{self.person} left {self.left} ({self.days} days ago) and the account is "
                    f"enabled{seen}")
        if self.kind == SHARED:
            return ("shared account: password never set" if self.days is None
                    else f"shared account: password {self.days} days old")
        return f"matches no one on roll or on the staff list{seen}"


@dataclass
class AuditResult:
    as_of: date
    accounts: int
    findings: list[AccountFinding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {LEAVER: 0, SHARED: 0, NO_MATCH: 0}
        for f in self.findings:
            out[f.kind] += 1
        return out


def masked_login(login: str) -> str:
    if "@" in login:
        return mask("EMAIL_ADDRESS", login)
    return (login[:1] + "***") if login else "***"


def _ref(key: bytes, prefix: str, basis: str) -> str:
    return prefix + hmac.new(key, basis.encode(), hashlib.sha256).hexdigest()[:12]


def _name_key(given: str, surname: str) -> str:
    return " ".join(sorted(tokens(f"{given} {surname}")))


class People:
    """Everyone the MIS knows, indexed the three ways accounts are matched."""

    def __init__(self, key: bytes, pupils: Iterable[Pupil], staff: Iterable[StaffMember],
                 as_of: date) -> None:
        self.by_id: dict[str, PersonRef] = {}
        self.by_email: dict[str, PersonRef] = {}
        self.by_name: dict[str, PersonRef | None] = {}  # None: two people share the name
        for p in pupils:
            basis = f"upn:{p.upn}" if p.upn else f"name:{p.forename.lower()} {p.surname.lower()}"
            left = p.leave_date if p.leave_date and p.leave_date <= as_of else None
            ref = PersonRef("pupil", _ref(key, "P-", basis), left, left is None)
            self._add(ref, p.upn or "", "", p.forename, p.surname)
        for s in staff:
            basis = f"staff:{s.code or s.email or (s.forename + ' ' + s.surname).lower()}"
            left = s.leave_date if s.leave_date and s.leave_date <= as_of else None
            ref = PersonRef("staff", _ref(key, "S-", basis), left, left is None)
            self._add(ref, s.code, s.email, s.forename, s.surname)

    def _add(self, ref: PersonRef, ident: str, email: str, given: str, surname: str) -> None:
        ident = normalise_upn(ident)
        if ident:
            old = self.by_id.get(ident)
            if old is None or (old.leave_date and ref.on_roll):  # on roll wins over a leaver row
                self.by_id[ident] = ref
        if email:
            self.by_email[email.lower()] = ref
        name = _name_key(given, surname)
        if name:
            old = self.by_name.get(name, ref)
            same = old is not None and old.ref == ref.ref
            self.by_name[name] = ref if (name not in self.by_name or same or
                                         (old and old.leave_date and ref.on_roll)) else None

    def match(self, acc: Account) -> PersonRef | None:
        if acc.employee_id and normalise_upn(acc.employee_id) in self.by_id:
            return self.by_id[normalise_upn(acc.employee_id)]
        if acc.email and acc.email.lower() in self.by_email:
            return self.by_email[acc.email.lower()]
        return self.by_name.get(_name_key(acc.given, acc.surname)) if acc.surname else None


def _matches(login: str, patterns: list[str]) -> bool:
    local = login.split("@", 1)[0].casefold()
    return any(fnmatch.fnmatchcase(local, p.casefold()) for p in patterns)


def audit_accounts(accounts: Iterable[Account], people: People, policy: Accounts,
                   as_of: date) -> AuditResult:
    now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    result = AuditResult(as_of, 0)
    for acc in accounts:
        result.accounts += 1

        def finding(kind: str, person: str = "", left: date | None = None,
                    days: int | None = None, acc: Account = acc) -> AccountFinding:
            return AccountFinding(kind, acc.directory, acc.key, acc.login,
                                  masked_login(acc.login), person, left, days, acc.enabled,
                                  acc.uac, acc.last_logon.date() if acc.last_logon else None)

        if _matches(acc.login, policy.ignore):
            continue
        if _matches(acc.login, policy.shared_accounts):
            if not acc.password_known:
                continue  # a Google export says nothing of password age
            age = (now - acc.password_set).days if acc.password_set else None
            if age is None or age > policy.password_max_age_days:
                result.findings.append(finding(SHARED, days=age))
            continue
        person = people.match(acc)
        if person is None:
            if acc.enabled:
                result.findings.append(finding(NO_MATCH))
            continue
        if person.leave_date and not person.on_roll and acc.enabled:
            days = (as_of - person.leave_date).days
            if days > policy.disable_within_days:
                result.findings.append(finding(LEAVER, f"{person.kind} {person.ref}",
                                               person.leave_date, days))
    return result
