"""Damaged mail: each damaged thing is an item with a status and a reason, the rest of the
export is read, and the scan finishes."""
from __future__ import annotations

import mailbox

from dataward.pipelines.scan import run_scan

from .conftest import UPN, items, message, write_mbox

from tests.samples import SAMPLES
PDFISH = b"%PDF-1.4\n" + bytes(range(256)) * 200  # 51 KB that base64-encodes to ~70 KB

BROKEN_BOUNDARY = f"""From: head@oakfield.sch.uk
To: office@oakfield.sch.uk
Subject: report
Date: Mon, 02 Mar 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="expected-boundary"

--some-other-boundary
Content-Type: text/plain

Pupil UPN {UPN}
--some-other-boundary--
""".encode()

UNKNOWN_CHARSET = f"""From: head@oakfield.sch.uk
To: office@oakfield.sch.uk
Subject: =?x-klingon?q?hello?=
Date: Mon, 02 Mar 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset="x-klingon"

Pupil UPN {UPN}
""".encode()


def test_damaged_mail_gets_a_status_and_the_scan_goes_on(settings_for, tmp_path):
    good = [message(body=f"UPN {UPN}", attachments=[("scan.pdf", PDFISH, "application/pdf")])
            for _ in range(3)]
    full = write_mbox(tmp_path / "whole.mbox", good)
    truncated = tmp_path / "mbox" / "truncated.mbox"
    truncated.parent.mkdir()
    data = full.read_bytes()
    third = data.rfind(b"\nFrom ") + 1
    truncated.write_bytes(data[:third + (len(data) - third) // 2])  # cut inside the PDF
    (tmp_path / "mbox" / "empty-export.mbox").write_text("not a mailbox at all\n")

    eml = tmp_path / "eml"
    eml.mkdir()
    (eml / "boundary.eml").write_bytes(BROKEN_BOUNDARY)
    (eml / "charset.eml").write_bytes(UNKNOWN_CHARSET)
    (eml / "huge.eml").write_bytes(message(attachments=[("scan.pdf", PDFISH, "application/pdf")]).as_bytes())

    pst = tmp_path / "pst"
    pst.mkdir()
    (pst / "random.pst").write_bytes(bytes(range(256)) * 64)
    (pst / "truncated.pst").write_bytes((SAMPLES / "ruby-msg" / "pst" / "msgInMsg.pst").read_bytes()[:6000])

    settings = settings_for([("mbox", tmp_path / "mbox", "mbox"), ("eml", eml, "eml"),
                             ("pst", pst, "pst")], max_attachment_mb=0.04)
    result = run_scan(settings)
    rows = items(result)
    assert result.status == "partial"  # some items are errors; the scan finished
    t = f"file://{truncated}"
    assert len(mailbox.mbox(str(truncated))) == 3
    assert (rows.loc[[f"{t}#1", f"{t}#2"], "status"] == "ok").all()
    assert rows.loc[f"{t}#3", "status"] == "error"
    assert "closing boundary missing" in rows.loc[f"{t}#3", "error"]
    assert rows.loc[f"{t}#3", "n_uk_upn"] == 1  # what was there was still scanned
    # Attachments over the mail cap (0.04 MB here) are skipped with the reason.
    assert rows.loc[f"{t}#1!/scan.pdf", "status"] == "skipped"
    assert "larger than the 0.04 MB mail cap" in rows.loc[f"{t}#1!/scan.pdf", "error"]
    assert rows.loc[f"file://{eml}/huge.eml!/scan.pdf", "status"] == "skipped"

    empty = rows.loc[f"file://{tmp_path}/mbox/empty-export.mbox"]
    assert empty.status == "error" and "not an mbox" in empty.error

    boundary = rows.loc[f"file://{eml}/boundary.eml"]
    assert boundary.status == "error" and "MIME start boundary missing" in boundary.error
    assert boundary.n_uk_upn == 1

    charset = rows.loc[f"file://{eml}/charset.eml"]
    assert charset.status == "ok" and "unknown charset 'x-klingon'" in charset.error
    assert charset.n_uk_upn == 1

    for name in ("random.pst", "truncated.pst"):
        row = rows.loc[f"file://{pst}/{name}"]
        assert row.status == "error" and "not a readable PST" in row.error, name
