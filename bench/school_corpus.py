"""A labelled school share and mail export, made by the libraries that write such files
(python-docx, openpyxl, the email and mailbox packages, Pillow), with every planted value
counted: ``labels[relative locator][entity type] = occurrences``.

Used by ``bench/recall_bench.py`` (item-level F1 and per-type precision) and
``bench/scan_bench.py`` (a mixed share for end-to-end speed). Every person is invented;
identifiers pass their checksums (``dataward.synthetic``).

What it holds, on purpose, is what schools write and scanners miss: key/value tables, a
header row under title rows, an FSM column, text boxes, footnotes, comments, headers,
formulas saved without values, possessives and curly apostrophes, names split by a
no-break space or a line, XMP people tags, names in file names, mail address headers,
and documents with no personal data that mention the SENCo and the safeguarding lead.
"""
from __future__ import annotations

import io
import mailbox
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import docx
import openpyxl
from docx.oxml import parse_xml
from openpyxl.comments import Comment
from PIL import Image

from dataward.synthetic import make_pupils

SCHOOL = "oakfield.sch.uk"
STAFF = [("Joanna", "Hale"), ("Marcus", "Reid"), ("Priti", "Desai"), ("Owen", "Pryce")]
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
FILLER = [
    "The class enjoyed the trip to the science museum and wrote excellent recounts.",
    "Homework is set every Friday and should be returned by the following Wednesday.",
    "Please remember that PE kit is needed on Tuesdays and Thursdays.",
    "Next term our topic is the Romans; we will visit the local museum in March.",
    "The school council met on Monday to discuss playground equipment and the rota.",
    "Swimming lessons continue for Year 4 until the end of the spring term.",
]
NEGATIVE = [
    "Our SENCo, Mrs Hale, runs a coffee morning for parents on the first Friday of the month.",
    "The designated safeguarding lead can be contacted through the school office.",
    "Staff training on the new reading scheme takes place on the INSET day.",
    "Please send in named water bottles; lost property is outside the hall.",
]
ETHNICITY = ["WBRI", "APKN", "ABAN", "WIRI", "BCRB", "MWBC"]


class Corpus:
    def __init__(self, root: Path, seed: int = 11, pupils: int = 120) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.pupils = make_pupils(pupils, seed=seed)
        self.labels: dict[str, Counter] = {}

    # ---- helpers -------------------------------------------------------------
    def _write(self, rel: str, data: bytes, labels: Counter) -> None:
        path = self.root / "share" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.labels["share/" + rel] = +labels

    def rosters(self) -> list[tuple[Path, str]]:
        out = self.root / "rosters"
        out.mkdir(parents=True, exist_ok=True)
        (out / "pupils.csv").write_text("Legal Forename,Legal Surname,UPN\n" + "".join(
            f"{p.forename},{p.surname},{p.upn}\n" for p in self.pupils), encoding="utf-8")
        (out / "staff.csv").write_text("Forename,Surname\n" + "".join(
            f"{f},{s}\n" for f, s in STAFF), encoding="utf-8")
        (out / "contacts.csv").write_text("Forename,Surname\n" + "".join(
            f"{p.parent_forename},{p.surname}\n" for p in self.pupils), encoding="utf-8")
        return [(out / "pupils.csv", "pupils"), (out / "staff.csv", "staff"),
                (out / "contacts.csv", "contacts")]

    # ---- documents -------------------------------------------------------------
    def review_letter(self, i: int) -> None:
        p = self.rng.choice(self.pupils)
        d = docx.Document()
        d.sections[0].header.paragraphs[0].text = f"Confidential: {p.name}"
        table = d.add_table(rows=4, cols=2)
        for r, (k, v) in enumerate([("Pupil", p.name), ("DOB", p.dob.strftime("%d/%m/%Y")),
                                    ("UPN", p.upn), ("NHS number", p.nhs)]):
            table.cell(r, 0).text, table.cell(r, 1).text = k, v
        d.add_paragraph(f"{p.forename}\u00a0{p.surname}\u2019s annual review took place this week. "
                        + self.rng.choice(FILLER))
        para = d.add_paragraph("Contact: ")
        para._p.append(parse_xml(
            f'<w:r {W_NS} xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape><v:textbox>'
            f'<w:txbxContent><w:p><w:r><w:t>Mum on {p.phone}</w:t></w:r></w:p></w:txbxContent>'
            '</v:textbox></v:shape></w:pict></w:r>'))
        note = d.add_paragraph("Outcomes were agreed with the family.")
        d.add_comment(note.runs, text="Checked by the SENCo", author="JH")
        buf = io.BytesIO()
        d.save(buf)
        # Header, table, body; and the pupil's name in the file name is exposure too.
        labels = Counter(PERSON=4, DATE_OF_BIRTH=1, UK_UPN=1, UK_NHS=1, PHONE_NUMBER=1)
        self._write(f"SEN/reviews/{p.name} review {i}.docx", buf.getvalue(), labels)

    def class_list(self, year: int) -> None:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = f"Year {year}"
        ws.append([f"Oakfield Primary School, Year {year} class list"])
        ws.append(["Autumn term"])
        ws.append([])
        ws.append(["Forename", "Surname", "Date of birth", "UPN", "FSM", "Letter"])
        group = [p for p in self.pupils if p.year_group == year][:25]
        for r, p in enumerate(group, start=5):
            ws.append([p.forename, p.surname, p.dob.strftime("%d/%m/%Y"), p.upn,
                       "Y" if r % 4 == 0 else "", f'="Dear parent of "&A{r}&" "&B{r}'])
        ws["A5"].comment = Comment(f"{group[0].name} joined in September", "office")
        buf = io.BytesIO()
        wb.save(buf)
        n = len(group)
        labels = Counter(PERSON=2 * n + 1, DATE_OF_BIRTH=n, UK_UPN=n, SPECIAL_CATEGORY=1)
        self._write(f"classes/Year {year} class list.xlsx", buf.getvalue(), labels)

    def mis_export(self) -> None:
        lines = ["UPN,Legal Surname,Legal Forename,DOB,Postcode,Ethnicity"]
        for p in self.pupils[:60]:
            lines.append(f"{p.upn},{p.surname},{p.forename},{p.dob:%d/%m/%Y},{p.postcode},"
                         f"{self.rng.choice(ETHNICITY)}")
        n = len(lines) - 1
        labels = Counter(UK_UPN=n, PERSON=n, DATE_OF_BIRTH=n, UK_POSTCODE=n,
                         SPECIAL_CATEGORY=n + 1)
        self._write("admin/mis/pupil export.csv", ("\n".join(lines) + "\n").encode(), labels)

    def notes(self, i: int) -> None:
        a, b, c = self.rng.sample(self.pupils, 3)
        gaps = ["\t", "  ", "\n", "\u00a0"]
        text = (f"Playground notes, week {i}\n{self.rng.choice(FILLER)}\n"
                f"{a.forename}{self.rng.choice(gaps)}{a.surname} was upset at lunch; "
                f"{b.name}'s coat was found in the hall.\n"
                f"Spoke to {c.parent_forename} {c.surname} (parent), NI number {c.parent_nino}, "
                f"who said {c.forename} has an inhaler in the office.\n")
        labels = Counter(PERSON=3, UK_NINO=1, SPECIAL_CATEGORY=1)
        self._write(f"staff/notes/playground {i}.txt", text.encode(), labels)

    def newsletter(self, i: int) -> None:
        d = docx.Document()
        d.add_heading(f"Newsletter {i}", level=1)
        for line in self.rng.sample(FILLER + NEGATIVE, 6):
            d.add_paragraph(line)
        buf = io.BytesIO()
        d.save(buf)
        self._write(f"public/newsletters/Newsletter {i}.docx", buf.getvalue(), Counter())

    def photo(self, i: int) -> None:
        people = self.rng.sample(self.pupils, self.rng.randint(1, 3))
        li = "".join(f"<rdf:li>{p.name}</rdf:li>" for p in people)
        xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/'
               '1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/'
               'std/Iptc4xmpExt/2008-02-29/"><Iptc4xmpExt:PersonInImage><rdf:Bag>'
               f'{li}</rdf:Bag></Iptc4xmpExt:PersonInImage></rdf:Description></rdf:RDF>'
               '</x:xmpmeta>').encode()
        exif = Image.Exif()
        exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 4.2), 3: "W", 4: (0.0, 7.0, 39.0)})
        buf = io.BytesIO()
        Image.new("RGB", (64, 48), "green").save(buf, "JPEG", exif=exif, xmp=xmp)
        self._write(f"photos/Sports day/IMG_{i:04d}.jpg", buf.getvalue(),
                    Counter(PERSON=len(people), GPS_LOCATION=1))

    # ---- mail ------------------------------------------------------------------
    def mailbox(self, messages: int) -> None:
        path = self.root / "share" / "mail" / "head.mbox"
        path.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.mbox(path)
        head = f"{STAFF[0][0]} {STAFF[0][1]}"
        now = datetime.now(UTC)
        for n in range(1, messages + 1):
            msg = EmailMessage()
            msg["Date"] = format_datetime(now - timedelta(days=n))
            labels: Counter = Counter()
            p = self.rng.choice(self.pupils)
            kind = n % 3
            if kind == 0:  # a parent writes from home
                msg["From"] = f"{p.parent_forename} {p.surname} <{p.parent_email}>"
                msg["To"] = f"office@{SCHOOL}"
                msg["Subject"] = "Absence"
                msg.set_content(f"Dear Office,\n{p.name} is off today with asthma.\n"
                                f"You can call me on {p.phone}.\n")
                labels.update(PERSON=2, EMAIL_ADDRESS=2, PHONE_NUMBER=1, SPECIAL_CATEGORY=1)
            elif kind == 1:  # staff to staff, nothing about anyone
                msg["From"] = f"{head} <head@{SCHOOL}>"
                msg["To"] = f"staff@{SCHOOL}"
                msg["Subject"] = "Staff meeting"
                msg.set_content(self.rng.choice(NEGATIVE) + "\n" + self.rng.choice(FILLER) + "\n")
                labels.update(PERSON=1, EMAIL_ADDRESS=2)
            else:  # a list sent to the local authority, with an attachment
                msg["From"] = f"{head} <head@{SCHOOL}>"
                msg["To"] = "admissions@oakshire.example.gov.uk"
                msg["Subject"] = f"Transfer: {p.name}"
                msg.set_content(f"Please find attached the details. UPN {p.upn}.\n")
                labels.update(PERSON=2, EMAIL_ADDRESS=2, UK_UPN=1)
                wb = openpyxl.Workbook()
                wb.active.append(["Forename", "Surname", "NHS number"])
                wb.active.append([p.forename, p.surname, p.nhs])
                buf = io.BytesIO()
                wb.save(buf)
                msg.add_attachment(buf.getvalue(), maintype="application",
                                   subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                   filename="transfer.xlsx")
                self.labels[f"share/mail/head.mbox#{n}!/transfer.xlsx"] = Counter(PERSON=1, UK_NHS=1)
            box.add(msg)
            self.labels[f"share/mail/head.mbox#{n}"] = labels
        box.close()
        self.labels["share/mail/head.mbox"] = Counter()

    def build(self, scale: int = 1) -> Corpus:
        for i in range(6 * scale):
            self.review_letter(i)
        for year in range(1, 7):
            self.class_list(year)
        self.mis_export()
        for i in range(10 * scale):
            self.notes(i)
        for i in range(6 * scale):
            self.newsletter(i)
        for i in range(8 * scale):
            self.photo(i)
        self.mailbox(30 * scale)
        return self
