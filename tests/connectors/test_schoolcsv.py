"""One reader of school CSV exports: the MIS roster (scan), the leavers export
(retention) and the asset inventory decode the same bytes, recognise the same headings
and read the same dates."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dataward.assets.csv_import import parse_inventory
from dataward.connectors.roster import load_roster
from dataward.pipelines.mis import read_pupils

UPN = "H801200001001"  # python-stdnum's published valid UPN (see tests/classifiers)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_reader_decodes_the_same_export_the_same_way(tmp_path, encoding):
    people = _write(tmp_path / "p.csv", f"UPN,Forename,Surname,Date of Leaving\n"
                    f"{UPN},Zoë,Ó Súilleabháin,21/07/2023\n", encoding)
    assets = _write(tmp_path / "a.csv", "Asset Tag,Type,Assigned To,Purchase Date\n"
                    "IT-001,laptop,Zoë Ó Súilleabháin,21/07/2023\n", encoding)
    roster = load_roster(people)
    pupil = read_pupils(people, leavers=True).pupils[0]
    asset = parse_inventory(assets).assets[0]
    assert roster.people[0].canonical.split()[0] in ("zoë", "zoe")
    assert (pupil.forename, pupil.surname) == ("Zoë", "Ó Súilleabháin")
    assert asset.assigned_to == "Zoë Ó Súilleabháin"


@pytest.mark.parametrize("heading", ["Full Name", "Name", "Pupil Name", "Pupil",
                                     "Student Name", "Staff Name", "Contact Name"])
def test_roster_and_leavers_recognise_the_same_full_name_headings(tmp_path, heading):
    path = _write(tmp_path / "p.csv", f'UPN,{heading},Leaving Date\n'
                  f'{UPN},"Brien, Aoife",01/09/2023\n', "utf-8")
    assert load_roster(path).people[0].canonical == "aoife brien"
    pupil = read_pupils(path, leavers=True).pupils[0]
    assert (pupil.forename, pupil.surname) == ("Aoife", "Brien")


@pytest.mark.parametrize("fore,sur", [("Legal Forename", "Legal Surname"),
                                      ("Forename", "Surname"), ("First Name", "Last Name"),
                                      ("given_name", "FAMILY-NAME")])
def test_roster_and_leavers_recognise_the_same_split_name_headings(tmp_path, fore, sur):
    path = _write(tmp_path / "p.csv", f"UPN,{fore},{sur},Date Left\n{UPN},Aoife,Brien,"
                  "01/09/2023\n", "utf-8")
    assert load_roster(path).people[0].canonical == "aoife brien"
    pupil = read_pupils(path, leavers=True).pupils[0]
    assert (pupil.forename, pupil.surname) == ("Aoife", "Brien")


@pytest.mark.parametrize("raw", ["01/09/2021", "2021-09-01", "1 Sep 2021", "01/09/2021 00:00"])
def test_leave_dates_and_purchase_dates_are_read_alike(tmp_path, raw):
    people = _write(tmp_path / "p.csv", f"UPN,Forename,Surname,Date of Leaving\n"
                    f"{UPN},Aoife,Brien,{raw}\n", "utf-8")
    assets = _write(tmp_path / "a.csv", f"Asset Tag,Type,Purchase Date\nIT-001,laptop,{raw}\n",
                    "utf-8")
    parsed = parse_inventory(assets)
    assert parsed.errors == []
    assert parsed.assets[0].purchase_date == date(2021, 9, 1)
    assert read_pupils(people, leavers=True).pupils[0].leave_date == date(2021, 9, 1)
