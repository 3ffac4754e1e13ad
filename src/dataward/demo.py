"""A realistic demo school: a share with staff/, pupils/ and admin/ areas holding Word,
Excel, PDF, CSV and text files (some with pupils' data where it should not be), MIS
exports as rosters, and a config that points at them. Every person is made up.

The demo writes only into a folder of its own, marked by ``MARKER``: ``$DATAWARD_HOME``
when set, else ``./.dataward-demo``. It refuses any other folder that already holds
something (a school's real config, ledger or keys), and never uses the per-user default
state folder, so it cannot overwrite a school's setup."""
from __future__ import annotations

import csv
import io
import os
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import RefusedError
from .synthetic import Pupil, make_nino, make_pupils

SCHOOL = "Oakfield Primary School"
DOMAIN = "oakfield.sch.uk"
MARKER = ".dataward-demo-home"
DEFAULT_DEMO_DIR = ".dataward-demo"
CONFIG_HEADER = "# dataward demo configuration (made by `dataward demo`)."


def demo_home() -> Path:
    """The demo's folder: $DATAWARD_HOME when set, else ./.dataward-demo."""
    env = os.environ.get("DATAWARD_HOME")
    return Path(env).expanduser().resolve() if env else (Path.cwd() / DEFAULT_DEMO_DIR).resolve()


def claim_demo_home(home: Path) -> Path:
    """Make ``home`` the demo's (new or empty folder), or check it already is; refuse any
    other folder, and the per-user default state folder whatever it holds."""
    import platformdirs
    default = Path(platformdirs.user_data_dir("dataward")).resolve()
    refuse = "`dataward demo` writes only into a folder of its own"
    hint = ("set DATAWARD_HOME to a new or empty folder, or leave it unset to use "
            f"./{DEFAULT_DEMO_DIR}")
    if home == default:
        raise RefusedError(f"{home} is dataward's default state folder, not a demo's; {refuse}",
                           hint=hint)
    marker = home / MARKER
    if marker.is_file():
        return home
    if home.is_dir() and any(home.iterdir()) and not _older_demo(home):
        held = sorted(p.name for p in home.iterdir())[:5]
        raise RefusedError(f"{home} is not a demo's folder (it holds {', '.join(held)}); {refuse}",
                           hint=hint)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    marker.write_text("made by `dataward demo`: everything in this folder is made up and may be "
                      "replaced by the next demo\n", encoding="utf-8")
    return home


def _older_demo(home: Path) -> bool:
    """A demo folder made before the marker existed: its config says so."""
    try:
        return (home / "dataward.yaml").read_text(encoding="utf-8").startswith(CONFIG_HEADER)
    except (OSError, UnicodeDecodeError):
        return False


CONFIG = CONFIG_HEADER + """
school:
  name: {school}
  domains: [{domain}]
sources:
  - {{name: staff, path: demo-share/staff, audience: staff}}
  - {{name: pupils, path: demo-share/pupils, audience: pupils}}
  - {{name: admin, path: demo-share/admin, audience: admin}}
rosters:
  - {{path: mis-exports/pupils.csv, kind: pupils}}
  - {{path: mis-exports/staff.csv, kind: staff}}
  - {{path: mis-exports/contacts.csv, kind: contacts}}
{backup}transfer:
  allowed_roots: [demo-share]
retention:
  image_roots: [demo-share/pupils/photos]
"""


def _docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> None:
    import docx
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, val in enumerate(row):
                t.cell(r, c).text = val
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))


def _xlsx(path: Path, sheets: Mapping[str, Sequence[Sequence[object]]]) -> None:
    import openpyxl
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _pdf(path: Path, title: str, lines: list[str]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica-Bold", 14)
    c.drawString(60, 790, title)
    c.setFont("Helvetica", 11)
    y = 760
    for line in lines:
        c.drawString(60, y, line)
        y -= 18
        if y < 60:
            c.showPage()
            c.setFont("Helvetica", 11)
            y = 790
    c.save()


def _jpeg(path: Path, rng: random.Random) -> None:
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (64, 48), tuple(rng.randint(0, 255) for _ in range(3)))
    img.save(path, "JPEG")


def _csv(path: Path, rows: Sequence[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


BACKUP = """backup:
  paths: [demo-share]
  targets:
    - {{name: local, url: backup-target}}
  recovery_keys: [{key}]
  gnupghome: {gnupghome}
"""


def build_demo(root: Path, *, pupils: int = 60, seed: int = 11,
               recovery_key: str | None = None, gnupghome: Path | None = None) -> Path:
    """Write the demo share, MIS exports and config under ``root``; return the config path.
    With a recovery key (an OpenPGP fingerprint in ``gnupghome``) the config also backs the
    share up to a local folder target."""
    rng = random.Random(seed)
    people = make_pupils(pupils, seed=seed, school_domain=DOMAIN)
    share, mis = root / "demo-share", root / "mis-exports"
    _mis_exports(mis, people, rng)
    _admin(share / "admin", people, rng)
    _staff(share / "staff", people, rng)
    _pupils_area(share / "pupils", people, rng)
    (root / "backup-target").mkdir(parents=True, exist_ok=True)
    cfg = root / "dataward.yaml"
    backup = BACKUP.format(key=recovery_key, gnupghome=gnupghome) if recovery_key else ""
    cfg.write_text(CONFIG.format(school=SCHOOL, domain=DOMAIN, backup=backup), encoding="utf-8")
    return cfg


def _mis_exports(mis: Path, people: list[Pupil], rng: random.Random) -> None:
    _csv(mis / "pupils.csv", [["UPN", "Legal Forename", "Preferred Forename", "Legal Surname",
                               "Date of Birth", "Year"]] +
         [[p.upn, p.forename, "", p.surname, p.dob.strftime("%d/%m/%Y"), p.year_group] for p in people])
    staff = [("Helen", "Marsh", "Head Teacher"), ("David", "Okoye", "SENCO"),
             ("Sarah", "Lindqvist", "Year 6 Teacher"), ("Tom", "Gallagher", "Office Manager")]
    _csv(mis / "staff.csv", [["Forename", "Surname", "Role"]] + [list(s) for s in staff])
    _csv(mis / "contacts.csv", [["Contact Forename", "Contact Surname", "Full Name", "Email"]] +
         [["", "", f"{p.parent_forename} {p.surname}", p.parent_email] for p in people])


def _admin(admin: Path, people: list[Pupil], rng: random.Random) -> None:
    _xlsx(admin / "Pupil data 2026-27.xlsx", {
        "Pupils": [["UPN", "Forename", "Surname", "DOB", "NHS Number", "Postcode", "Medical notes"]] +
                  [[p.upn, p.forename, p.surname, p.dob.strftime("%d/%m/%Y"), p.nhs, p.postcode,
                    rng.choice(["", "", "asthma - inhaler in office", "nut allergy, EpiPen"])]
                   for p in people],
    })
    sen = people[:8]
    _xlsx(admin / "SEN register.xlsx", {"Register": [["Name", "UPN", "Need", "Plan"]] + [
        [p.name, p.upn, rng.choice(["dyslexia", "autism", "speech and language"]),
         rng.choice(["SEN support", "EHCP"])] for p in sen]})
    _csv(admin / "FSM eligibility.csv", [["Pupil", "UPN", "Free school meals", "Pupil premium"]] +
         [[p.name, p.upn, "Y", "Y"] for p in people[::5]])
    _docx(admin / "Safeguarding" / "Concern log - autumn.docx", [
        f"Safeguarding concern logged for {people[3].name} (DOB: {people[3].dob:%d/%m/%Y}).",
        "Referral made to MASH; social worker allocated. Child protection plan under review.",
    ])
    _docx(admin / "Staff" / "Payroll contacts.docx", [
        "Payroll changes for the new term.",
        f"Helen Marsh NI number {make_nino(rng)}, tel {people[0].phone}.",
    ])
    _pdf(admin / "Census" / "October census summary.pdf", "School census - October", [
        f"Number on roll: {len(people)}", "Summary counts only; no pupil-level data in this file."])


def _staff(staff: Path, people: list[Pupil], rng: random.Random) -> None:
    for p in people[:12]:
        _docx(staff / "Letters" / f"letter-{p.upn[-4:]}.docx", [
            f"{p.street}", f"Oakfield {p.postcode}", "",
            f"Dear {p.parent_forename} {p.surname},",
            f"I am writing about {p.forename}'s progress this term. Please contact the office on "
            f"{p.phone} or reply to office@{DOMAIN}.",
            "Yours sincerely, Sarah Lindqvist",
        ])
    for p in people[12:24]:
        _pdf(staff / "Reports" / f"Year {p.year_group}" / f"report-{p.upn[-5:]}.pdf",
             "End of year report", [f"Pupil: {p.name}", f"UPN: {p.upn}",
                                    f"Date of birth: {p.dob:%d %B %Y}",
                                    "Reading: working at the expected standard.",
                                    "Maths: working towards the expected standard."])
    (staff / "Minutes").mkdir(parents=True, exist_ok=True)
    (staff / "Minutes" / "Staff meeting 2026-09-04.txt").write_text(
        "Staff meeting minutes\nAttendees: all teaching staff\n1. INSET day plans.\n"
        "2. Fire drill on 12/09/2026.\n3. Playground rota.\n", encoding="utf-8")
    _csv(staff / "Timetable.csv", [["Day", "Period", "Class", "Room"]] +
         [[d, i, f"Y{rng.randint(1, 6)}", f"R{rng.randint(1, 9)}"]
          for d in ("Mon", "Tue", "Wed", "Thu", "Fri") for i in range(1, 6)])


def _pupils_area(pupils_dir: Path, people: list[Pupil], rng: random.Random) -> None:
    # Mistakes a real share holds: a medical list copied into the pupils' area.
    _docx(pupils_dir / "Year 6" / "Shared" / "medical needs (copy).docx",
          ["Medical needs - Year 6 trip"],
          [["Pupil", "DOB", "Condition", "Medication"]] +
          [[p.name, p.dob.strftime("%d/%m/%Y"), rng.choice(["asthma", "epilepsy", "diabetes"]),
            "inhaler"] for p in people[:6]])
    _docx(pupils_dir / "Year 6" / "Homework" / "Spelling list.docx",
          ["Spelling list week 3", "because, could, should, would, thought"])
    (pupils_dir / "Year 3").mkdir(parents=True, exist_ok=True)
    (pupils_dir / "Year 3" / "reading-log.txt").write_text(
        "Reading log\nChapter 1 finished.\nChapter 2 finished.\n", encoding="utf-8")
    for p in people[:5]:
        _jpeg(pupils_dir / "photos" / f"{p.forename} {p.surname} sports day.jpg", rng)
