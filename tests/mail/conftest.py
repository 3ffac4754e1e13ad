"""Mail fixtures made with the standard library's email and mailbox packages."""
from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

SCHOOL = "oakfield.sch.uk"
# Planted values: a pupil's name (on the roster), UPN (valid check letter), NHS number.
NAME, UPN, NHS = "Amelia Khan", "U820200014013", "943 476 5919"
SUBJECT_WITH_DATA = f"{NAME} UPN {UPN} exclusion meeting"
RAW_VALUES = [NAME, UPN, NHS, "9434765919", "parent.khan@gmail.com", "head@oakfield.sch.uk",
              "exclusion meeting"]


def message(*, to: str = f"office@{SCHOOL}", cc: str | None = None, bcc: str | None = None,
            subject: str = "Staff briefing", body: str = "See you at 3pm.",
            days_old: int = 3, msgid: str | None = None,
            attachments: list[tuple[str, bytes, str]] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"head@{SCHOOL}"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC) - timedelta(days=days_old))
    msg["Message-ID"] = msgid or f"<{abs(hash((to, subject, body, days_old)))}@{SCHOOL}>"
    msg.set_content(body)
    for name, data, ctype in attachments or []:
        main, sub = ctype.split("/")
        if main == "text":
            msg.add_attachment(data.decode(), subtype=sub, filename=name)
        else:
            msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg


def write_mbox(path: Path, messages: list[EmailMessage]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for m in messages:
            box.add(m)
        box.flush()
    finally:
        box.unlock()
        box.close()
    return path


def roster_csv(root: Path) -> Path:
    path = root / "pupils.csv"
    path.write_text("Legal Forename,Legal Surname,UPN\nAmelia,Khan,U820200014013\n", encoding="utf-8")
    return path


def mail_settings(dw_home: Path, tmp_path: Path, sources: list[tuple[str, Path, str]], **mail):
    """A config naming the school's domain, the roster and ``sources`` (name, path, kind)."""
    from dataward.settings import load_settings
    cfg = tmp_path / "dataward.yaml"
    lines = [f"school: {{name: Oakfield, domains: [{SCHOOL}]}}", "sources:"]
    lines += [f"  - {{name: {n}, path: '{p}', kind: {k}, audience: staff}}" for n, p, k in sources]
    lines += ["rosters:", f"  - {{path: '{roster_csv(tmp_path)}', kind: pupils}}",
              "scan: {workers: 1}"]
    if mail:
        lines.append("mail: {" + ", ".join(f"{k}: {v}" for k, v in mail.items()) + "}")
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_settings(cfg)


def items(result):
    return pq.read_table(result.out_dir / "items.parquet").to_pandas().set_index("locator")


def findings(result):
    return pq.read_table(result.out_dir / "findings.parquet").to_pandas()


@pytest.fixture
def settings_for(dw_home, tmp_path):
    def make(sources, **mail):
        return mail_settings(dw_home, tmp_path, sources, **mail)
    return make
