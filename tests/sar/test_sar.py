"""Subject access requests: the ICO's calendar-month due date, and a request followed from
receipt to an encrypted package that 7-Zip opens, over real files and a real scan."""
from __future__ import annotations

import csv
import io
import re
import subprocess
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.pipelines.conftest import PUPIL, line, make_roster
from tests.report.conftest import configure

BY = "Ann Smith (DPO)"


def _export_and_open(cli, cfg, sar_id: str, tmp_path: Path):
    """`dataward sar export`, then the recipient opens the package with 7-Zip and the
    passphrase shown once (on stderr, never stdout); returns the result and the folder
    the package's contents went to."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    r = cli(*cfg, "sar", "export", sar_id, "--out", outbox)
    assert r.exit_code == 0, r.output
    package = Path(re.search(r"package: (\S+)", r.stdout).group(1))
    pw = re.search(r"\b([a-z]+(?:-[a-z]+){5,})\b", r.stderr).group(1)
    assert pw not in r.stdout
    outer, inner = tmp_path / "outer", tmp_path / "inner"
    subprocess.run(["7zz", "x", f"-p{pw}", f"-o{outer}", str(package)], check=True,
                   capture_output=True)
    subprocess.run(["7zz", "x", f"-o{inner}", str(outer / "contents.zip")], check=True,
                   capture_output=True)
    return r, inner


@pytest.mark.parametrize("received, due", [
    # The ICO's examples ("Time limits for responding", right of access guidance).
    ("2025-09-03", "2025-10-03"),     # the corresponding date in the next month
    ("2025-03-31", "2025-04-30"),     # no 31 April: the last day of April
    ("2024-01-31", "2024-02-29"),     # a leap year's February
    ("2025-01-30", "2025-02-28"),
    ("2025-12-15", "2026-01-15"),     # across the year end
    ("2026-09-03", "2026-10-05"),     # 3 October 2026 is a Saturday: the next working day
])
def test_due_date_is_one_calendar_month(received: str, due: str):
    from dataward.sar.deadline import due_date
    assert due_date(date.fromisoformat(received)) == date.fromisoformat(due)


@pytest.fixture
def school(dw_home: Path, tmp_path: Path):
    from dataward.pipelines.scan import run_scan
    share = tmp_path / "share"
    (share / "staff" / "Year 6").mkdir(parents=True)
    (share / "pupils").mkdir()
    (share / "staff" / "Year 6" / "amelia report.txt").write_text(line() + "\n")
    (share / "staff" / "Year 6" / "pair work.txt").write_text(
        f"{line()}\nPartner: Archie Ahmed, UPN A123456789012... see notes.\n"
        "The mother of Archie Ahmed called on 020 7946 0999.\n")
    (share / "staff" / "Year 6" / "other pupil.txt").write_text("Archie Ahmed is in Year 6.\n")
    with zipfile.ZipFile(share / "staff" / "Year 6" / "old files.zip", "w") as zf:
        zf.writestr("old note.txt", line() + "\n")
    roster = tmp_path / "pupils.csv"
    roster.write_text(f"Legal Forename,Legal Surname,UPN\nAmelia,Khan,{PUPIL['upn']}\n"
                      "Archie,Ahmed,\n", encoding="utf-8")
    settings = configure(tmp_path, share, roster)
    run_scan(settings)
    return settings, share


def test_a_request_from_receipt_to_an_encrypted_package(school, tmp_path: Path, cli):
    settings, share = school
    cfg = ("--config", str(settings.config_path))
    received = date.today() - timedelta(days=5)
    p = PUPIL
    r = cli(*cfg, "sar", "open", "--name", "Amelia Khan", "--upn", p["upn"], "--dob", p["dob"],
            "--nhs", p["nhs"], "--nino", p["nino"], "--phone", p["phone"], "--email", p["email"],
            "--postcode", p["postcode"], "--received", received.isoformat(), "--by", BY)
    assert r.exit_code == 0, r.output
    sar_id = re.search(r"request (sar-[0-9a-f]{8})", r.stdout).group(1)
    assert "for A***** K***" in r.stdout and "days left" in r.stdout

    listed = cli(*cfg, "sar", "list")
    assert listed.exit_code == 0 and sar_id in listed.stdout

    found = cli(*cfg, "sar", "find", sar_id)
    assert found.exit_code == 0, found.output
    assert "3 item(s)" in found.stdout and "old note.txt" in found.stdout
    assert "amelia report.txt" in found.stdout and "pair work.txt" in found.stdout
    assert "other pupil.txt" not in found.stdout

    r, inner = _export_and_open(cli, cfg, sar_id, tmp_path)
    names = sorted(p.name for p in inner.rglob("*") if p.is_file())
    assert names == ["MANIFEST-dataward.json", "SAR-index.csv", "amelia report.txt",
                     "old files.zip - old note.txt", "pair work.txt"]
    index = list(csv.reader(io.StringIO((inner / "SAR-index.csv").read_text("utf-8"))))
    assert index[0] == ["file", "other people's data", "occurrences", "masked previews"]
    rows = {(r[0], r[1]): r for r in index[1:]}
    # The pair-work file also names another pupil and holds a phone number: masked.
    assert rows[("pair work.txt", "PERSON")][3] == "A***** A****"
    assert rows[("pair work.txt", "PERSON")][2] == "2"
    assert ("pair work.txt", "PHONE_NUMBER") in rows
    # Amelia's own report holds no one else's data (her own values are not listed).
    assert rows[("amelia report.txt", "")][3] == "no other person's data found"
    # A member of an archive is taken out of it, not packaged with its container.
    assert (inner / "old files.zip - old note.txt").read_text() == line() + "\n"
    assert rows[("old files.zip - old note.txt", "")][3] == "no other person's data found"
    text = (inner / "SAR-index.csv").read_text("utf-8")
    assert "Archie" not in text and "Ahmed" not in text and "0999" not in text

    # Nothing left in the state folder holds the index, and the ledger holds no value.
    assert not list((settings.home / "sar").glob("*"))
    from dataward.ledger import Ledger
    with Ledger.for_settings(settings) as ledger:
        with ledger.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT * FROM sar_requests").all()
        actions = [a.action for a in ledger.audit_records(action_prefix="sar.")]
    assert "Amelia" not in str(stored) and PUPIL["upn"] not in str(stored)
    assert actions == ["sar.open", "sar.find", "sar.find", "sar.export"]

    closed = cli(*cfg, "sar", "close", sar_id, "--by", BY)
    assert closed.exit_code == 0 and sar_id not in cli(*cfg, "sar", "list").stdout


def test_overdue_requests_are_in_the_report(school, tmp_path: Path, cli):
    settings, _share = school
    cfg = ("--config", str(settings.config_path))
    old = date.today() - timedelta(days=70)
    late = cli(*cfg, "sar", "open", "--name", "Amelia Khan", "--received", old.isoformat(),
               "--by", BY)
    assert late.exit_code == 0 and "(OVERDUE by " in late.stdout and "days left" not in late.stdout
    recent = cli(*cfg, "sar", "open", "--name", "Archie Ahmed", "--received",
                 date.today().isoformat(), "--by", BY)
    assert recent.exit_code == 0
    listed = cli(*cfg, "sar", "list").stdout
    assert "OVERDUE by" in listed

    from dataward.pipelines.report import write_report
    html = write_report(settings, fmt="html", out=tmp_path / "r.html").path.read_text("utf-8")
    section = re.search(r'<section id="overdue-sars".*?</section>', html, re.S).group(0)
    assert "Subject access requests past their due date: 1" in section
    assert "A***** K***" in section and "A***** A****" not in section
    assert "Amelia" not in html


def _mbox(path: Path) -> None:
    """A parents' mailbox made by Python's own mailbox module: Amelia's mother writes
    twice (once about Archie too, with an attachment), Archie's father once."""
    import mailbox
    from email.message import EmailMessage
    box = mailbox.mbox(path)
    for n, (sender, subject, body, attach) in enumerate([
        ("mum@example.org", "Amelia's trip", f"Hello, about {line()}. Thanks.", None),
        ("dad@example.net", "Archie's lunch", "Archie Ahmed will bring a packed lunch.", None),
        ("mum@example.org", "Homework pair",
         "Amelia Khan works with Archie Ahmed; his mum is on 020 7946 0999.",
         f"UPN {PUPIL['upn']}\n"),
    ], start=1):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "office@oakfield.sch.uk", subject
        msg["Date"] = f"Mon, {n} Sep 2026 09:00:00 +0100"
        msg["Message-ID"] = f"<m{n}@example.org>"
        msg.set_content(body)
        if attach:
            msg.add_attachment(attach.encode(), maintype="text", subtype="plain",
                               filename="note.txt")
        box.add(msg)
    box.flush()
    box.close()


def test_messages_in_a_mailbox_are_found_and_exported_one_by_one(dw_home: Path, tmp_path: Path, cli):
    from email import message_from_bytes, policy

    from dataward.pipelines.scan import run_scan
    share = tmp_path / "share"
    (share / "staff" / "Office").mkdir(parents=True)
    (share / "pupils").mkdir()
    _mbox(share / "staff" / "Office" / "parents.mbox")
    roster = tmp_path / "pupils.csv"
    roster.write_text(f"Legal Forename,Legal Surname,UPN\nAmelia,Khan,{PUPIL['upn']}\n"
                      "Archie,Ahmed,\n", encoding="utf-8")
    settings = configure(tmp_path, share, roster)
    run_scan(settings)
    cfg = ("--config", str(settings.config_path))
    r = cli(*cfg, "sar", "open", "--name", "Amelia Khan", "--upn", PUPIL["upn"],
            "--received", date.today().isoformat(), "--by", BY)
    sar_id = re.search(r"request (sar-[0-9a-f]{8})", r.stdout).group(1)

    found = cli(*cfg, "sar", "find", sar_id)
    assert found.exit_code == 0, found.output
    text = " ".join(found.stdout.split())
    # Message 1, message 3 and message 3's attachment; never message 2 (Archie's only).
    assert "3 item(s)" in text, found.stdout
    assert text.count("parents.mbox") == 3
    assert "message 1" in text and "message 3" in text and "note.txt" in text
    assert "message 2" not in text

    r, inner = _export_and_open(cli, cfg, sar_id, tmp_path)
    assert "messages and members taken out of mailboxes or archives: 2" in r.stdout
    names = sorted(p.name for p in inner.rglob("*") if p.is_file())
    assert names == ["MANIFEST-dataward.json", "SAR-index.csv", "parents.mbox - message 1.eml",
                     "parents.mbox - message 3.eml"]
    first = message_from_bytes((inner / "parents.mbox - message 1.eml").read_bytes(),
                               policy=policy.default)
    third = message_from_bytes((inner / "parents.mbox - message 3.eml").read_bytes(),
                               policy=policy.default)
    assert first["Subject"] == "Amelia's trip" and third["Subject"] == "Homework pair"
    assert [a.get_filename() for a in third.iter_attachments()] == ["note.txt"]
    everything = b"".join(p.read_bytes() for p in inner.rglob("*.eml"))
    assert b"packed lunch" not in everything     # message 2 is not disclosed

    index = list(csv.reader(io.StringIO((inner / "SAR-index.csv").read_text("utf-8"))))
    rows = {(r[0], r[1]): r for r in index[1:]}
    third_rows = {k[1]: v for k, v in rows.items() if k[0] == "parents.mbox - message 3.eml"}
    assert third_rows["PERSON"][3] == "A***** A****"
    assert "PHONE_NUMBER" in third_rows and "0999" not in third_rows["PHONE_NUMBER"][3]
    assert "EMAIL_ADDRESS" in third_rows     # the sender's address is someone else's
    index_text = (inner / "SAR-index.csv").read_text("utf-8")
    assert "Archie" not in index_text and "mum@example.org" not in index_text
    assert not (settings.home / "sar" / sar_id).exists()


def test_a_file_moved_since_the_scan_is_listed_not_fatal(school, tmp_path: Path, cli):
    settings, share = school
    cfg = ("--config", str(settings.config_path))
    r = cli(*cfg, "sar", "open", "--name", "Amelia Khan", "--upn", PUPIL["upn"],
            "--received", date.today().isoformat(), "--by", BY)
    sar_id = re.search(r"request (sar-[0-9a-f]{8})", r.stdout).group(1)
    # After the scan, the DPO's fix renamed one file (as `remediate --rename` would).
    (share / "staff" / "Year 6" / "amelia report.txt").rename(share / "staff" / "Year 6" / "DOC-1.txt")
    r, inner = _export_and_open(cli, cfg, sar_id, tmp_path)
    assert "1 item(s) found by the scan are not in the package" in " ".join(r.stderr.split())
    index = (inner / "SAR-index.csv").read_text("utf-8")
    assert "no longer at its path" in index
    assert not (inner / "amelia report.txt").exists()
    assert (inner / "pair work.txt").exists()


def test_a_message_changed_since_the_scan_is_not_taken_out(dw_home: Path, tmp_path: Path, cli):
    from dataward.pipelines.scan import run_scan
    share = tmp_path / "share"
    (share / "staff").mkdir(parents=True)
    (share / "pupils").mkdir()
    box = share / "staff" / "parents.mbox"
    _mbox(box)
    settings = configure(tmp_path, share, make_roster(tmp_path))
    run_scan(settings)
    cfg = ("--config", str(settings.config_path))
    r = cli(*cfg, "sar", "open", "--name", "Amelia Khan", "--received",
            date.today().isoformat(), "--by", BY)
    sar_id = re.search(r"request (sar-[0-9a-f]{8})", r.stdout).group(1)
    # Someone edits the first message in the export after the scan.
    box.write_bytes(box.read_bytes().replace(b"Thanks.", b"Thanks!", 1))
    r, inner = _export_and_open(cli, cfg, sar_id, tmp_path)
    assert "taken out of mailboxes or archives: 1" in r.stdout
    assert "1 item(s) found by the scan are not in the package" in " ".join(r.stderr.split())
    names = sorted(p.name for p in inner.iterdir())
    assert names == ["MANIFEST-dataward.json", "SAR-index.csv", "parents.mbox - message 3.eml"]
    index = (inner / "SAR-index.csv").read_text("utf-8")
    assert "not taken out: a message or member changed since the scan" in index
    assert str(tmp_path) not in index
