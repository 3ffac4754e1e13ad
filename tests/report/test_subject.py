"""Subject access search: one pupil's name, UPN and NHS number planted across several
files (each written a different way) are found in exactly those files, and nothing the
search prints or leaves behind holds the values asked for."""
from __future__ import annotations

from pathlib import Path

import pytest

from dataward.connectors.filesystem import file_locator

PUPIL = {"name": "Amelia Khan", "upn": "U820200014013", "nhs": "943 476 5919", "dob": "12/03/2014"}
OTHER_UPN = "A123456789012"  # a valid UPN of someone else


@pytest.fixture
def planted(dw_home: Path, tmp_path: Path):
    import docx
    import openpyxl

    from dataward.pipelines.scan import run_scan
    from dataward.settings import load_settings
    share = tmp_path / "share"
    (share / "office").mkdir(parents=True)
    (share / "class").mkdir()
    files = {
        # her name only, written surname first
        "name": share / "office" / "register.txt",
        # her UPN only, in a Word table
        "upn": share / "office" / "upn-list.docx",
        # her NHS number only, without spaces, in a spreadsheet
        "nhs": share / "class" / "health.xlsx",
        # all three together
        "all": share / "class" / "profile.txt",
        # her date of birth beside someone else's UPN: found only by --dob
        "dob": share / "office" / "birthdays.txt",
    }
    files["name"].write_text("Morning register: Khan, Amelia present.\n")
    d = docx.Document()
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Pupil", "UPN"
    t.cell(1, 0).text, t.cell(1, 1).text = "see register", PUPIL["upn"]
    d.save(files["upn"])
    wb = openpyxl.Workbook()
    wb.active.append(["Ref", "NHS Number"])
    wb.active.append(["P-17", PUPIL["nhs"].replace(" ", "")])
    wb.save(files["nhs"])
    files["all"].write_text(f"Pupil {PUPIL['name']}, UPN {PUPIL['upn']}, NHS {PUPIL['nhs']}.\n")
    files["dob"].write_text(f"UPN {OTHER_UPN} DOB: {PUPIL['dob']}\n")
    (share / "class" / "other.txt").write_text(f"Pupil Ben Stone, UPN {OTHER_UPN}, NHS 401 023 2137.\n")
    (share / "class" / "spellings.txt").write_text("because, would, should\n")
    roster = tmp_path / "pupils.csv"
    roster.write_text("Forename,Surname,UPN\nAmelia,Khan,U820200014013\nBen,Stone,A123456789012\n")
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text(f"sources:\n  - {{name: share, path: {share}, audience: staff}}\n"
                   f"rosters:\n  - {{path: {roster}, kind: pupils}}\n")
    settings = load_settings(cfg)
    run_scan(settings)
    return settings, {k: file_locator(str(p)) for k, p in files.items()}


def test_finds_exactly_the_files_holding_her_data(planted):
    from dataward.pipelines.subject import SubjectQuery, find_subject
    settings, loc = planted
    r = find_subject(settings, SubjectQuery(name=PUPIL["name"], upn=PUPIL["upn"], nhs=PUPIL["nhs"]))
    found = {h.locator: h.counts for h in r.hits}
    assert set(found) == {loc["name"], loc["upn"], loc["nhs"], loc["all"]}
    assert found[loc["all"]] == {"PERSON": 1, "UK_UPN": 1, "UK_NHS": 1}
    assert found[loc["name"]] == {"PERSON": 1}
    assert found[loc["nhs"]] == {"UK_NHS": 1}
    assert r.searched == ["name", "upn", "nhs"] and r.warnings == []


@pytest.mark.parametrize("query, expected", [
    ({"name": "KHAN, amelia"}, {"name", "all"}),            # any case, surname first
    ({"nhs": "9434765919"}, {"nhs", "all"}),                 # spaces or none: one number
    ({"upn": PUPIL["upn"]}, {"upn", "all"}),
    ({"dob": "2014-03-12"}, {"dob"}),                        # ISO or UK order: one date
    ({"dob": "12/03/2014", "name": "Amelia Khan"}, {"dob", "name", "all"}),
])
def test_each_identifier_normalised_as_the_scan_did(planted, query, expected):
    from dataward.pipelines.subject import SubjectQuery, find_subject
    settings, loc = planted
    r = find_subject(settings, SubjectQuery(**query))
    assert {h.locator for h in r.hits} == {loc[k] for k in expected}


def test_all_scans_and_warnings(planted):
    from dataward.errors import UsageError
    from dataward.pipelines.scan import run_scan
    from dataward.pipelines.subject import SubjectQuery, find_subject
    settings, loc = planted
    run_scan(settings)
    r = find_subject(settings, SubjectQuery(upn=PUPIL["upn"]), all_scans=True)
    assert len(r.scans) == 2 and len(r.hits) == 4
    bad = find_subject(settings, SubjectQuery(upn="U820200014014", name="Amelia"))
    assert bad.hits == [] and len(bad.warnings) == 2
    with pytest.raises(UsageError):
        find_subject(settings, SubjectQuery())
    with pytest.raises(UsageError):
        find_subject(settings, SubjectQuery(dob="the spring term"))


def test_subject_find_cli_prints_locators_not_values(planted, cli):
    settings, loc = planted
    r = cli("--config", settings.config_path, "subject", "find", "--name", PUPIL["name"],
            "--upn", PUPIL["upn"], "--nhs", PUPIL["nhs"], "--json")
    assert r.exit_code == 0, r.output
    assert {loc["name"], loc["upn"], loc["nhs"], loc["all"]} == {
        line.split('"')[3] for line in r.stdout.splitlines() if '"locator"' in line}
    for value in (*PUPIL.values(), "9434765919", "Khan"):
        assert value not in r.output
    home = Path(settings.home)
    for path in home.rglob("*"):
        if path.is_file() and path.name != "fingerprint.key":
            data = path.read_bytes()
            assert PUPIL["upn"].encode() not in data and b"Amelia" not in data
