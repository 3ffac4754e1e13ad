"""Synthetic school data for the demo, the tests and the benchmarks: made-up people with
identifiers that pass their checksums, so detection is exercised as on real data without
any real person's data."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from .classifiers.checksums import UPN_CHECK_LETTERS as CHECK_LETTERS, upn_check_letter

FORENAMES = ("Amelia Olivia Isla Ava Mia Ivy Lily Freya Florence Willow Grace Sophia Evie "
             "Harper Aisha Zara Maryam Noah Oliver George Leo Arthur Muhammad Oscar Harry "
             "Jack Theo Finley Archie Henry Charlie Freddie Ibrahim Yusuf Kacper Jakub "
             "Tobias Reuben Priya Anaya Chloe Niamh Callum Rhys Eilidh Ruairi Keira").split()
SURNAMES = ("Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts "
            "Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris "
            "Clarke Patel Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark "
            "Khan Ahmed Begum Ali Hussain Nowak Kowalski O'Brien Murphy Campbell Stewart "
            "Okafor Mensah Achterberg Fairweather Ravensworth Penhaligon").split()
STREETS = ("High Street", "Church Lane", "Station Road", "Mill Road", "Oak Avenue", "Park View")
POSTCODES = ("SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB", "LS1 4AP",
             "NE1 7RU", "BS1 5TR", "OX1 2JD", "CB2 1TN", "EH1 1YZ")
# London numbers 020 7946 0xxx are valid in the numbering plan and set aside for fiction.
PHONE_PREFIX = "020 7946 0"


def make_upn(rng: random.Random) -> str:
    body = f"{rng.randint(201, 938):03d}{rng.randint(2000, 7999):04d}{rng.randint(10, 26):02d}{rng.randint(1, 999):03d}"
    letter = upn_check_letter(body)
    if letter is None:  # every 12-digit body has a letter; the check is for the type
        raise ValueError("no UPN check letter")
    return letter + body


def make_uln(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        rem = sum(d * w for d, w in zip(digits, range(10, 1, -1))) % 11
        if rem:
            return "".join(map(str, digits)) + str(10 - rem)


def make_nhs(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        if check != 10:
            s = "".join(map(str, digits)) + str(check)
            return f"{s[:3]} {s[3:6]} {s[6:]}"


def make_nino(rng: random.Random) -> str:
    ok1, ok2 = "ABCEGHJKLMNPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
    while True:
        prefix = rng.choice(ok1) + rng.choice(ok2)
        if prefix not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
            break
    d = f"{rng.randint(0, 999999):06d}"
    return f"{prefix} {d[:2]} {d[2:4]} {d[4:]} {rng.choice('ABCD')}"


def make_phone(rng: random.Random) -> str:
    return f"{PHONE_PREFIX}{rng.randint(0, 999):03d}"


@dataclass(frozen=True)
class Pupil:
    forename: str
    surname: str
    upn: str
    uln: str
    nhs: str
    dob: date
    postcode: str
    street: str
    phone: str
    year_group: int
    parent_forename: str
    parent_email: str
    parent_nino: str

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}"


def make_pupils(n: int, seed: int = 7, school_domain: str = "oakfield.sch.uk") -> list[Pupil]:
    rng = random.Random(seed)
    seen: set[str] = set()
    pupils: list[Pupil] = []
    while len(pupils) < n:
        fn, sn = rng.choice(FORENAMES), rng.choice(SURNAMES)
        if f"{fn} {sn}" in seen and len(seen) < len(FORENAMES) * len(SURNAMES) // 2:
            continue
        seen.add(f"{fn} {sn}")
        year = rng.randint(1, 6)
        dob = date(2025 - year - 5, 9, 1) + timedelta(days=rng.randint(0, 364))
        parent = rng.choice(FORENAMES)
        pupils.append(Pupil(
            fn, sn, make_upn(rng), make_uln(rng), make_nhs(rng), dob, rng.choice(POSTCODES),
            f"{rng.randint(1, 120)} {rng.choice(STREETS)}", make_phone(rng), year, parent,
            f"{parent.lower()}.{sn.lower().replace(chr(39), '')}@example.co.uk", make_nino(rng)))
    return pupils


__all__ = ["CHECK_LETTERS", "Pupil", "make_nhs", "make_nino", "make_phone", "make_pupils",
           "make_uln", "make_upn"]
