"""A small school share made by the real libraries, with planted values."""
from __future__ import annotations

from pathlib import Path

import pytest

PUPIL = {"forename": "Amelia", "surname": "Khan", "upn": "U820200014013",
         "nhs": "943 476 5919", "dob": "12/03/2014", "nino": "AB 12 34 56 C",
         "phone": "020 7946 0123", "email": "amelia.khan@example.co.uk", "postcode": "B33 8TH"}
RAW_VALUES = ["Amelia Khan", "U820200014013", "943 476 5919", "9434765919", "12/03/2014",
              "AB 12 34 56 C", "AB123456C", "020 7946 0123", "amelia.khan@example.co.uk",
              "B33 8TH"]


def line() -> str:
    p = PUPIL
    return (f"Pupil {p['forename']} {p['surname']}, UPN {p['upn']}, DOB: {p['dob']}, "
            f"NHS {p['nhs']}, NI {p['nino']}, tel {p['phone']}, {p['email']}, {p['postcode']}")


def make_share(root: Path) -> Path:
    import docx
    import openpyxl
    from reportlab.pdfgen import canvas

    share = root / "share"
    (share / "staff").mkdir(parents=True)
    (share / "pupils").mkdir()
    (share / "staff" / "note.txt").write_text(line() + "\n", encoding="utf-8")
    (share / "staff" / "list.csv").write_text(
        "Forename,Surname,UPN,DOB\nAmelia,Khan,U820200014013,12/03/2014\n", encoding="utf-8")
    (share / "staff" / "page.html").write_text(
        f"<html><body><script>var x=1;</script><p>{line()}</p></body></html>", encoding="utf-8")
    (share / "staff" / "data.json").write_text('{"pupil": "%s"}' % line(), encoding="utf-8")
    d = docx.Document()
    d.add_paragraph("Report")
    d.add_paragraph(line())
    d.save(share / "staff" / "report.docx")
    wb = openpyxl.Workbook()
    wb.active.append(["Name", "UPN", "DOB", "NHS Number"])
    wb.active.append(["Amelia Khan", PUPIL["upn"], PUPIL["dob"], PUPIL["nhs"]])
    wb.save(share / "staff" / "pupils.xlsx")
    c = canvas.Canvas(str(share / "staff" / "letter.pdf"))
    c.drawString(50, 800, line()[:90])
    c.drawString(50, 780, line()[90:])
    c.save()
    (share / "pupils" / "worksheet.txt").write_text("Spellings: because, would, should\n")
    return share


def make_roster(root: Path) -> Path:
    path = root / "pupils.csv"
    path.write_text("Legal Forename,Legal Surname,UPN\nAmelia,Khan,U820200014013\n", encoding="utf-8")
    return path


@pytest.fixture
def share(tmp_path) -> Path:
    return make_share(tmp_path)


@pytest.fixture
def roster(tmp_path) -> Path:
    return make_roster(tmp_path)


@pytest.fixture
def settings(dw_home, share, roster, tmp_path):
    """A config with two sources over the share and the roster."""
    from dataward.settings import load_settings
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text(
        "sources:\n"
        f"  - {{name: staff, path: {share / 'staff'}, audience: staff}}\n"
        f"  - {{name: pupils, path: {share / 'pupils'}, audience: pupils}}\n"
        f"rosters:\n  - {{path: {roster}, kind: pupils}}\n", encoding="utf-8")
    return load_settings(cfg)
