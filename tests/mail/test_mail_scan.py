"""Scanning mail exports: every message an item, every attachment an item beneath it,
personal data in subjects, mail sent outside the school, protected attachments, retention."""
from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import pyzipper

from dataward.pipelines.scan import run_scan

from .conftest import (NAME, NHS, RAW_VALUES, SCHOOL, SUBJECT_WITH_DATA, UPN, findings, items,
                       message, write_mbox)

CSV = f"Name,UPN\n{NAME},{UPN}\n".encode()


def aes_zip(inner: bytes) -> bytes:
    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(b"correct horse battery staple")
        zf.writestr("pupils.csv", inner)
    return buf.getvalue()


def test_mbox_messages_and_attachments_are_items(settings_for, tmp_path):
    box = write_mbox(tmp_path / "exports" / "head.mbox", [
        message(subject=SUBJECT_WITH_DATA, body="Nothing else here."),
        message(to="parent.khan@gmail.com", body=f"NHS number {NHS}",
                attachments=[("pupils.csv", CSV, "text/csv")]),
        message(body="Staff only.", attachments=[("pupils.csv", CSV, "text/csv")]),
    ])
    settings = settings_for([("head", box, "mbox")])
    result = run_scan(settings)
    rows, found = items(result), findings(result)
    top = f"file://{box}"
    assert result.status == "complete"
    assert rows.loc[top, "format"] == "mbox"
    assert set(rows.index) == {top, f"{top}#1", f"{top}#2", f"{top}#2!/pupils.csv",
                               f"{top}#3", f"{top}#3!/pupils.csv"}
    assert (rows.loc[[f"{top}#1", f"{top}#2", f"{top}#3"], "format"] == "eml").all()

    # Personal data in a subject line is its own finding, placed in the subject.
    subj = found[(found.locator == f"{top}#1") & (found["where"] == "subject")]
    assert set(subj.entity_type) >= {"UK_UPN", "PERSON"}
    assert not found[(found.locator == f"{top}#1") & (found["where"] == "body")].shape[0]

    # Sent to a parent's Gmail: the message and its attachment are external mail.
    assert rows.loc[f"{top}#2", "audience"] == "external-mail"
    assert rows.loc[f"{top}#2!/pupils.csv", "audience"] == "external-mail"
    assert rows.loc[f"{top}#2!/pupils.csv", "n_uk_upn"] == 1
    assert "sent outside the school: 1 of 1 recipients" in rows.loc[f"{top}#2", "error"]
    in_message = found[(found.locator == f"{top}#2")]
    assert list(zip(in_message.entity_type, in_message["where"])) == [
        ("EMAIL_ADDRESS", "from"), ("EMAIL_ADDRESS", "to"), ("UK_NHS", "body")]
    # The same attachment sent inside the school: internal, and scored lower.
    assert rows.loc[f"{top}#3", "audience"] == "internal-mail"
    assert rows.loc[f"{top}#3!/pupils.csv", "audience"] == "internal-mail"
    assert (rows.loc[f"{top}#2!/pupils.csv", "risk_score"]
            > rows.loc[f"{top}#3!/pupils.csv", "risk_score"] > 0)


def test_any_recipient_outside_makes_it_external(settings_for, tmp_path):
    folder = tmp_path / "eml"
    folder.mkdir()
    cases = {"to-school.eml": dict(to=f"a@{SCHOOL}, b@staff.{SCHOOL}"),
             "cc-outside.eml": dict(to=f"a@{SCHOOL}", cc="someone@example.com"),
             "bcc-outside.eml": dict(to=f"a@{SCHOOL}", bcc="x@lookalike-oakfield.sch.uk"),
             "no-recipients.eml": dict(to="")}
    for name, kw in cases.items():
        (folder / name).write_bytes(message(body=f"UPN {UPN}", **kw).as_bytes())
    result = run_scan(settings_for([("eml", folder, "eml")]))
    rows = items(result)
    aud = {Path(loc).name: a for loc, a in rows.audience.items()}
    assert aud == {"to-school.eml": "internal-mail", "cc-outside.eml": "external-mail",
                   "bcc-outside.eml": "external-mail", "no-recipients.eml": "internal-mail"}
    assert (rows.n_uk_upn == 1).all()


def test_attached_messages_and_protected_attachments(settings_for, tmp_path):
    inner = message(to="parent.khan@gmail.com", subject="Forwarded", body=f"UPN {UPN}")
    outer = message(to=f"office@{SCHOOL}", body="See attached.", attachments=[
        ("fwd.eml", inner.as_bytes(), "message/rfc822"),
        ("pupils.zip", aes_zip(CSV), "application/zip"),
        ("pupils.csv.gpg", b"-----BEGIN PGP MESSAGE-----\n\nhQEMA...\n-----END PGP MESSAGE-----\n",
         "application/octet-stream"),
    ])
    folder = tmp_path / "eml"
    folder.mkdir()
    path = folder / "outer.eml"
    path.write_bytes(outer.as_bytes())
    rows = items(run_scan(settings_for([("eml", folder, "eml")])))
    top = f"file://{path}"
    # The attached message is an item beneath its parent, read as a message of its own.
    fwd = rows.loc[f"{top}!/fwd.eml"]
    assert fwd.format == "eml" and fwd.status == "ok" and fwd.n_uk_upn == 1
    assert fwd.audience == "external-mail"  # its own recipient is outside
    assert rows.loc[top, "audience"] == "internal-mail"
    # Encrypted attachments are marked protected, not read.
    assert rows.loc[f"{top}!/pupils.zip", "status"] == "encrypted"
    assert "AES" in rows.loc[f"{top}!/pupils.zip", "error"]
    assert rows.loc[f"{top}!/pupils.csv.gpg", "status"] == "encrypted"
    assert "2 protected" in rows.loc[top, "error"]


def test_old_messages_are_flagged_against_the_mail_retention(settings_for, tmp_path):
    box = write_mbox(tmp_path / "old.mbox", [message(days_old=800), message(days_old=10)])
    rows = items(run_scan(settings_for([("old", box, "mbox")], retention_days=365)))
    top = f"file://{box}"
    assert "older than the 365-day mail retention (800 days old)" in rows.loc[f"{top}#1", "error"]
    assert "retention" not in rows.loc[f"{top}#2", "error"]
    assert rows.loc[f"{top}#1", "status"] == rows.loc[f"{top}#2", "status"] == "ok"
    assert rows.loc[f"{top}#1", "mtime"].year == rows.loc[f"{top}#2", "mtime"].year - 2 or \
        rows.loc[f"{top}#1", "mtime"] < rows.loc[f"{top}#2", "mtime"]


def test_adhoc_scan_recognises_mail_by_content(dw_home, cli, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    (share / "saved message").write_bytes(message(to="x@example.com", body=f"UPN {UPN}").as_bytes())
    write_mbox(share / "Inbox", [message(body=f"UPN {UPN}")])  # Thunderbird: no extension
    from tests.samples import SAMPLES as samples
    shutil.copy(samples / "apache-poi" / "hsmf" / "quick.msg", share / "outlook-item")
    (share / "notes.txt").write_text("From the office: no message here\n")
    result = run_scan(
        __import__("dataward.settings", fromlist=["load_settings"]).load_settings(),
        sources=__import__("dataward.pipelines.scan", fromlist=["adhoc_sources"]).adhoc_sources([share]),
        adhoc=True)
    rows = items(result)
    fmt = {loc.rsplit("/", 1)[-1]: f for loc, f in rows.format.items()}
    assert fmt["saved%20message"] == "eml"
    assert fmt["Inbox"] == "mbox" and fmt["Inbox#1"] == "eml"
    assert fmt["outlook-item"] == "msg"
    assert fmt["notes.txt"] == "txt"
    assert rows.loc[f"file://{share}/saved%20message", "audience"] == "external-mail"
    out = cli("scan", str(share))
    assert out.exit_code == 0


def test_no_raw_values_in_outputs_or_logs(settings_for, tmp_path, caplog):
    box = write_mbox(tmp_path / "exports" / "head.mbox", [
        message(to="parent.khan@gmail.com", subject=SUBJECT_WITH_DATA, body=f"NHS {NHS}",
                attachments=[("pupils.csv", CSV, "text/csv")]),
        message(subject="=?x-unknown-charset?q?" + NAME.replace(" ", "_") + "?=", body="x"),
    ])
    caplog.set_level(logging.DEBUG)
    result = run_scan(settings_for([("head", box, "mbox")]))
    written = b"".join(p.read_bytes() for p in result.out_dir.iterdir())
    written += caplog.text.encode()
    import pyarrow.parquet as pq
    for name in ("items.parquet", "findings.parquet"):
        written += pq.read_table(result.out_dir / name).to_pandas().to_csv().encode()
    for value in RAW_VALUES:
        assert value.encode() not in written, value
