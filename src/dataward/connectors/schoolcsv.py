"""The one reader of school CSV exports (MIS rosters, leavers and consent lists, the asset
inventory): how the bytes are decoded, how headings are compared, which headings name
which field and which date shapes are read.

Exports come from SIMS, Arbor, Bromcom or a spreadsheet, often through Excel, so they
arrive with byte-order marks, as UTF-16 ("Unicode text"), in Windows-1252, and with dates
in any of the usual UK shapes. Nothing here quotes a cell value in a message.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

# Headings are compared by ``norm_header``: lower case, letters and digits only, so
# "Legal Forename", "legal_forename" and "LEGAL-FORENAME" are one heading.
UPN_HEADERS = ("upn", "uniquepupilnumber", "pupilupn")
FORENAME_HEADERS = ("legalforename", "forename", "firstname", "givenname", "forenames")
PREFERRED_HEADERS = ("preferredforename", "preferredname", "knownas", "chosenforename",
                     "preferredfirstname")
SURNAME_HEADERS = ("legalsurname", "surname", "lastname", "familyname", "preferredsurname")
FULLNAME_HEADERS = ("fullname", "name", "pupilname", "pupil", "studentname", "staffname",
                    "contactname")
LEAVE_HEADERS = ("dateofleaving", "leavingdate", "leavedate", "dateleft", "left", "leftdate",
                 "leavingon", "enddate")

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d-%m-%y",
                "%Y/%m/%d", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %y",
                "%Y%m%d")
_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

CP1252_NOTE = "the file is not UTF-8; read as Windows-1252 (an Excel export)"


def decode_export(data: bytes) -> tuple[str, str, list[str]]:
    """(text, encoding name, notes). A UTF-8 or UTF-16 byte-order mark is honoured and
    removed; otherwise UTF-8 is tried, and Windows-1252 (Excel's "CSV" on Windows) is
    the fallback, with a note saying so."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig", []
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252", [CP1252_NOTE]


def looks_utf16(data: bytes) -> bool:
    """A UTF-16 byte-order mark (NUL bytes are then expected, not a sign of binary)."""
    return data.startswith(_UTF16_BOMS)


def norm_header(header: str) -> str:
    """A heading as compared: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def find_column(header: list[str], names: tuple[str, ...]) -> int | None:
    """The index of the first of ``names`` (in their order of preference) in ``header``."""
    normed = [norm_header(h) for h in header]
    for name in names:
        if name in normed:
            return normed.index(name)
    return None


def parse_date(raw: str) -> date:
    """A date from a school export, read day first (UK): DD/MM/YYYY, YYYY-MM-DD,
    1 Sep 2021 and their usual variants, a time part ignored, or an Excel serial day.
    Raises ValueError whose text completes "the <field> ..." (never quoting the value)."""
    text = _TIME_TAIL.sub("", raw.strip())
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if re.fullmatch(r"\d{5}(\.0+)?", text):  # an Excel serial day number
        serial = int(float(text))
        if 20000 < serial < 80000:
            return date(1899, 12, 30) + timedelta(days=serial)
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})", text)
    if m and int(m.group(2)) > 12 and int(m.group(1)) <= 12:
        raise ValueError("looks like a US-style date (month first); dates are read day first,"
                         " as DD/MM/YYYY")
    raise ValueError("is not a date dataward can read (use DD/MM/YYYY or YYYY-MM-DD)")
