"""Dense MIS exports for the dense benchmark and the tests: one pupil per row with UPN,
NHS number, date of birth, postcode, phone, e-mail and names.

The check characters are computed here from the published rules, written independently
of ``dataward.classifiers.checksums`` (a bug there must not be mirrored here):
- UPN (DfE "Unique Pupil Numbers" guidance, annex): characters 2-13 are weighted 2 to 13;
  the sum modulo 23 indexes ``A B C D E F G H J K L M N P Q R T U V W X Y Z``.
- NHS number (NHS Data Dictionary, "NHS Number"): digits 1-9 weighted 10 to 2; the check
  digit is 11 minus the sum modulo 11 (11 becomes 0; 10 means the number is not issued).
Phone numbers are Ofcom's drama ranges (020 7946 0xxx, 0113 496 0xxx) and mobiles in
the allocated 074-075, 0771-0779 and 078 blocks; postcodes are real outward codes with an inward code of the allowed
letters. Every value a row holds is returned beside the CSV text, so a caller knows what
was planted without asking dataward."""
from __future__ import annotations

import random
from dataclasses import dataclass

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
OUTWARD = ("SW1A", "M1", "B33", "CR2", "DN55", "EC1A", "LS1", "NE1", "BS1", "OX1", "CB2",
           "EH1", "L1", "G2", "CF10", "BT1", "S1", "NG1", "LE1", "PL1", "YO1", "RG1", "SO14")
FIRST = ("Amelia Olivia Isla Ava Mia Ivy Lily Freya Florence Willow Grace Sophia Evie "
         "Harper Aisha Zara Maryam Noah Oliver George Leo Arthur Muhammad Oscar Harry Jack "
         "Theo Finley Archie Henry Charlie Freddie Ibrahim Yusuf Kacper Jakub Tobias Reuben "
         "Priya Anaya Chloe Niamh Callum Rhys Eilidh Keira Poppy Ruby Alfie Jacob Mason").split()
LAST = ("Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts "
        "Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke "
        "Patel Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Khan Ahmed "
        "Begum Ali Hussain Nowak Murphy Campbell Stewart Okafor Mensah Fairweather").split()
MOBILE = ("40", "41", "42", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52", "53",
          "54", "55", "56", "57", "58", "59", "71", "72", "73", "74", "75", "76", "77", "78",
          "79", "80", "81", "82", "83", "84", "85", "86", "87", "88", "89")
HEADER = ["UPN", "Legal Surname", "Legal Forename", "DOB", "Gender", "Year", "NHS Number",
          "Postcode", "Primary Phone", "Parent Email"]
# Per row: UPN, NHS, DOB, postcode, phone, e-mail, and the pupil's name.
ENTITIES = ("UK_UPN", "UK_NHS", "DATE_OF_BIRTH", "UK_POSTCODE", "PHONE_NUMBER",
            "EMAIL_ADDRESS", "PERSON")


def upn(rng: random.Random) -> str:
    body = f"{rng.randint(201, 938)}{rng.randint(2000, 7999)}{rng.randint(10, 26)}{rng.randint(0, 999):03d}"
    total = 0
    for i, ch in enumerate(body):
        total += (i + 2) * int(ch)
    return UPN_LETTERS[total % 23] + body


def nhs(rng: random.Random) -> str:
    while True:
        nine = f"{rng.randint(100_000_000, 999_999_999)}"
        rem = sum(int(d) * (10 - i) for i, d in enumerate(nine)) % 11
        check = (11 - rem) % 11
        if check != 10 and len(set(nine)) > 1:
            ten = nine + str(check)
            return f"{ten[:3]} {ten[3:6]} {ten[6:]}"


def postcode(rng: random.Random) -> str:
    return f"{rng.choice(OUTWARD)} {rng.randint(0, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"


def phone(rng: random.Random) -> str:
    if rng.random() < 0.3:  # Ofcom's drama ranges for London and Leeds
        return rng.choice(("020 7946 0", "0113 496 0")) + f"{rng.randint(0, 999):03d}"
    return f"07{rng.choice(MOBILE)}{rng.randint(0, 9)} {rng.randint(100000, 999999)}"


@dataclass
class Export:
    text: str
    planted: dict[str, list[str]]      # entity -> values, one per occurrence
    names: list[tuple[str, str]]       # (forename, surname) of every row, for a roster


def dense_csv(rows: int, seed: int = 15) -> Export:
    """A CSV export of ``rows`` pupils (about 100 bytes a row)."""
    rng = random.Random(seed)
    planted: dict[str, list[str]] = {e: [] for e in ENTITIES}
    names: list[tuple[str, str]] = []
    lines = [",".join(HEADER)]
    for _ in range(rows):
        fn, sn = rng.choice(FIRST), rng.choice(LAST)
        values = {"UK_UPN": upn(rng), "UK_NHS": nhs(rng),
                  "DATE_OF_BIRTH": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2008, 2020)}",
                  "UK_POSTCODE": postcode(rng), "PHONE_NUMBER": phone(rng),
                  "EMAIL_ADDRESS": f"{fn.lower()}.{sn.lower()}{rng.randint(1, 99)}@example.co.uk"}
        for e, v in values.items():
            planted[e].append(v)
        planted["PERSON"].append(f"{fn} {sn}")
        names.append((fn, sn))
        lines.append(",".join([values["UK_UPN"], sn, fn, values["DATE_OF_BIRTH"],
                               rng.choice("MF"), str(rng.randint(1, 11)), values["UK_NHS"],
                               values["UK_POSTCODE"], values["PHONE_NUMBER"],
                               values["EMAIL_ADDRESS"]]))
    return Export("\n".join(lines) + "\n", planted, names)


def roster_csv(names: list[tuple[str, str]]) -> str:
    """A SIMS-like pupil roster of the given names (one row per distinct person)."""
    rows = ["Legal Forename,Legal Surname"] + [f"{f},{s}" for f, s in sorted(set(names))]
    return "\n".join(rows) + "\n"
