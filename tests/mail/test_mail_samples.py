"""Interop: every mail file other projects ship as test data (tests/data/samples: mbox, eml,
Outlook .msg and .pst, TNEF) is read, or gets a clear status; nothing crashes."""
from __future__ import annotations

import mailbox
import sys
from pathlib import Path

import pytest

from dataward.pipelines.scan import adhoc_sources, run_scan
from dataward.settings import load_settings

from .conftest import items

from tests.samples import SAMPLES
MAIL_SUFFIXES = (".mbox", ".eml", ".msg", ".pst", ".dat")
MALFORMED_MSG = "clusterfuzz-testcase-minimized-POIHSMFFuzzer-5336473854148608.msg"


def mail_samples() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.suffix.lower() in MAIL_SUFFIXES)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("DATAWARD_HOME", str(home))
    try:
        result = run_scan(load_settings(), sources=adhoc_sources(mail_samples()), adhoc=True)
        yield result, items(result)
    finally:
        mp.undo()


def loc(path: Path) -> str:
    return f"file://{path}"


def members(rows, path: Path, sep: str) -> list[str]:
    prefix = loc(path) + sep
    return [x[len(prefix):] for x in rows.index if x.startswith(prefix)
            and "!/" not in x[len(prefix):] and "#" not in x[len(prefix):]]


def test_every_sample_is_read_or_has_a_clear_status(scanned):
    result, rows = scanned
    samples = mail_samples()
    assert len(samples) >= 35
    assert result.status in ("complete", "partial")
    for path in samples:
        row = rows.loc[loc(path)]
        if path.name == MALFORMED_MSG:  # the malformed .msg
            assert row.status == "error" and "damaged Outlook .msg" in row.error
            continue
        assert row.status == "ok", (path.name, row.error)
    # No item failed with an unexpected exception in a reader.
    unexpected = rows[rows.error.str.startswith(("cannot read", "internal error"))]
    assert unexpected.empty, unexpected.error.to_dict()
    assert set(rows.status) <= {"ok", "error", "skipped", "encrypted", "unsupported"}


def test_formats_and_members(scanned):
    _result, rows = scanned
    for path in mail_samples():
        expected = {".mbox": "mbox", ".eml": "eml", ".msg": "msg", ".pst": "pst", ".dat": "tnef"}
        assert rows.loc[loc(path), "format"] == expected[path.suffix.lower()], path.name
    # mbox: the same messages Python's mailbox module finds; where the file opens with a
    # UTF-8 BOM, mailbox misses the first message and dataward does not.
    for path in SAMPLES.rglob("*.mbox"):
        bom = path.read_bytes().startswith(b"\xef\xbb\xbfFrom ")
        assert len(members(rows, path, "#")) == len(mailbox.mbox(str(path))) + bom, path.name
    # TNEF: the attachments the upstream listing names.
    for dat, listing in (("attachments.dat", "attachments.list"), ("winmail.dat", "winmail.list")):
        names = (SAMPLES / "mimekit" / "tnef" / listing).read_text().split("\n")
        # MimeKit lists the RTF body as a file too; dataward reads it as the body.
        names = [n.strip() for n in names if n.strip() and n.strip() != "body.rtf"]
        got = members(rows, SAMPLES / "mimekit" / "tnef" / dat, "!/")
        assert len(got) == len(names), (dat, got)
    # .msg with attachments: each attachment an item beneath the message.
    assert len(members(rows, SAMPLES / "apache-poi" / "hsmf" / "attachment_test_msg.msg", "!/")) == 2
    # PST: every item; a message attached to a message is read for its text.
    pst = SAMPLES / "java-libpst" / "dist-list.pst"
    assert len(members(rows, pst, "#")) >= 3
    pst_items = [x for x in rows.index if ".pst#" in x and "!/" not in x]
    assert (rows.loc[pst_items, "format"] == "eml").all()
    nested = [x for x in rows.index if x.startswith(loc(SAMPLES / "ruby-msg" / "pst" / "msgInMsg.pst"))
              and x.endswith("embedded-message-1.txt")]
    assert nested and (rows.loc[nested, "status"] == "ok").all()


def test_password_protected_pst_is_read_and_says_so(scanned):
    _result, rows = scanned
    path = SAMPLES / "java-libpst" / "passworded.pst"
    row = rows.loc[loc(path)]
    assert row.status == "ok" and "Outlook password" in row.error
    assert len(members(rows, path, "#")) >= 2
    assert "password" not in rows.loc[loc(SAMPLES / "java-libpst" / "dist-list.pst"), "error"]


def test_without_the_outlook_extra_a_msg_is_unsupported_with_the_install_hint(dw_home, monkeypatch):
    monkeypatch.setitem(sys.modules, "extract_msg", None)  # as if the extra was not installed
    path = SAMPLES / "apache-poi" / "hsmf" / "quick.msg"
    rows = items(run_scan(load_settings(), sources=adhoc_sources([path]), adhoc=True))
    row = rows.loc[loc(path)]
    assert row.status == "unsupported"
    assert "pip install 'dataward[outlook]'" in row.error
