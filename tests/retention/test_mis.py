"""MIS exports as they really arrive: BOMs, Excel encodings, odd dates, missing columns,
duplicates. Errors and warnings carry line numbers and never a cell value."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dataward.errors import InputError
from dataward.pipelines.mis import cross_check, parse_date, read_consents, read_pupils

from .conftest import make_upn, write_csv

UPN1, UPN2, UPN3 = make_upn(1), make_upn(2), make_upn(3)


@pytest.mark.parametrize("raw,expected", [
    ("21/07/2023", date(2023, 7, 21)), ("2023-07-21", date(2023, 7, 21)),
    ("21-07-2023", date(2023, 7, 21)), ("21.07.2023", date(2023, 7, 21)),
    ("21/07/23", date(2023, 7, 21)), ("21 Jul 2023", date(2023, 7, 21)),
    ("21 July 2023", date(2023, 7, 21)), ("21-Jul-23", date(2023, 7, 21)),
    ("21/07/2023 00:00", date(2023, 7, 21)), ("2023-07-21T00:00:00", date(2023, 7, 21)),
    ("45128", date(2023, 7, 21)),  # an Excel serial day number
    ("1/9/2023", date(2023, 9, 1)),  # day first, as UK schools write it
])
def test_uk_date_shapes_are_read_day_first(raw, expected):
    assert parse_date(raw) == expected


def test_sims_export_with_bom_in_cp1252_with_semicolons(tmp_path: Path):
    text = ("UPN;Legal Surname;Legal Forename;Date of Leaving\r\n"
            f"{UPN1};O'Brien;Zoë;21/07/2023\r\n{UPN2};Khan;Omar;2023-07-20\r\n")
    path = write_csv(tmp_path / "leavers.csv", text, "cp1252")
    result = read_pupils(path, leavers=True)
    assert result.encoding == "cp1252"
    assert [p.forename for p in result.pupils] == ["Zoë", "Omar"]
    assert result.pupils[0].leave_date == date(2023, 7, 21)
    assert any("Windows-1252" in w.message for w in result.warnings)

    bom = write_csv(tmp_path / "bom.csv", "\ufeff" + text.replace(";", ","), "utf-8")
    result = read_pupils(bom, leavers=True)
    assert result.encoding == "utf-8-sig" and result.pupils[0].upn == UPN1


def test_full_name_column_in_surname_comma_forename_form(tmp_path: Path):
    path = write_csv(tmp_path / "l.csv", f'Name,UPN,Leaving Date\n"Doe, Jane",{UPN1},01/09/2023\n')
    p = read_pupils(path, leavers=True).pupils[0]
    assert (p.forename, p.surname) == ("Jane", "Doe")


def test_missing_columns_are_named_with_the_headings_found(tmp_path: Path):
    path = write_csv(tmp_path / "leavers.csv", f"Pupil Number,Forename,Surname\n{UPN1},Jane,Doe\n")
    with pytest.raises(InputError) as err:
        read_pupils(path, leavers=True)
    msg = str(err.value)
    assert "UPN" in msg and "leave date" in msg and "'Pupil Number'" in msg
    assert "Jane" not in msg and err.value.exit_code == 65


def test_bad_dates_are_errors_with_line_numbers_and_no_values(tmp_path: Path):
    path = write_csv(tmp_path / "leavers.csv",
                     "UPN,Forename,Surname,Date of Leaving\n"
                     f"{UPN1},Jane,Doe,21/07/2023\n"
                     f"{UPN2},Omar,Khan,07/21/2023\n"
                     f"{UPN3},Lily,Evans,next summer\n")
    with pytest.raises(InputError) as err:
        read_pupils(path, leavers=True)
    msg = str(err.value)
    assert "2 problem(s)" in msg
    assert "line 3: the leave date looks like a US-style date" in msg
    assert "line 4: the leave date is not a date" in msg
    for secret in ("Omar", "Khan", UPN2, "next summer", "07/21/2023"):
        assert secret not in msg


def test_duplicates_and_bad_check_letters_are_warnings_with_lines(tmp_path: Path):
    bad = "A" + UPN1[1:] if UPN1[0] != "A" else "B" + UPN1[1:]
    path = write_csv(tmp_path / "leavers.csv",
                     "UPN,Forename,Surname,Date of Leaving\n"
                     f"{UPN1},Jane,Doe,21/07/2023\n"
                     f"{bad},Omar,Khan,21/07/2023\n"
                     f"{UPN1},Jane,Doe,01/09/2023\n"
                     ",Lily,Evans,21/07/2023\n")
    result = read_pupils(path, leavers=True)
    warnings = [str(w) for w in result.warnings]
    assert "leavers.csv line 3: the UPN fails its check letter" in " ".join(warnings)
    assert any("line 4: the same UPN as line 2" in w for w in warnings)
    assert any("line 5: no UPN" in w for w in warnings)
    assert len(result.pupils) == 3
    assert result.pupils[0].leave_date == date(2023, 9, 1)  # the later of the two


@pytest.mark.parametrize("text", ["", "\n\n", "UPN,Forename,Surname,Date of Leaving\n",
                                  "\ufeffUPN,Forename,Surname,Date of Leaving\r\n,,,\r\n"])
def test_an_empty_export_is_an_error_never_an_empty_plan(tmp_path: Path, text: str):
    with pytest.raises(InputError, match="empty|no pupils"):
        read_pupils(write_csv(tmp_path / "leavers.csv", text), leavers=True)


def test_on_roll_needs_no_leave_date_and_leavers_on_roll_are_flagged(tmp_path: Path):
    leavers = read_pupils(write_csv(tmp_path / "l.csv", "UPN,Forename,Surname,Date Left\n"
                                    f"{UPN1},Jane,Doe,21/07/2023\n"), leavers=True)
    roll = read_pupils(write_csv(tmp_path / "r.csv", f"UPN,Forename,Surname\n{UPN2},S,R\n"
                                 f"{UPN1},Jane,Doe\n"), leavers=False)
    consents = read_consents(write_csv(tmp_path / "c.csv", "UPN,Consent,Given\n"
                                       f"{UPN1},Archive,Yes\n{UPN3},Publication,Yes\n"))
    issues = [str(i) for i in cross_check(leavers, roll, consents)]
    assert "l.csv line 2: this pupil is also on roll (r.csv line 3)" in issues[0]
    assert issues[1].startswith("c.csv line 3: unknown UPN")
    assert all(UPN1 not in i and UPN3 not in i for i in issues)


def test_consent_exports_in_both_shapes(tmp_path: Path):
    wide = read_consents(write_csv(tmp_path / "w.csv", "UPN,Forename,Photo Archive,Website\n"
                                   f"{UPN1},Yes,Y,No\n{UPN2},No,no,N\n"))
    assert wide.by_upn[UPN1] == frozenset({"photo archive"}) and wide.by_upn[UPN2] == frozenset()
    long = read_consents(write_csv(tmp_path / "l.csv", "UPN,Consent Type,Status\n"
                                   f"{UPN1},Publication,Granted\n{UPN1},Archive,Refused\n"))
    assert long.by_upn[UPN1] == frozenset({"publication"})
    with pytest.raises(InputError, match="missing column"):
        read_consents(write_csv(tmp_path / "x.csv", "Pupil,Archive\nJane,Yes\n"))
