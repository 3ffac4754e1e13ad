"""The scan before packaging reads like the scan: every item inside a file is counted,
and a reader that hangs is stopped by the scan's time limit."""
from __future__ import annotations

import io
import mailbox
import time
import zipfile
from email.message import EmailMessage

import pytest
import yaml

from dataward.classifiers import sniff
from dataward.classifiers.extractors import EXTRACTORS
from dataward.transfer import PasswordMethod, create_package

UPN, NHS = "U820200014013", "943 476 5919"


def _zip_with_csv() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("class/list.csv", f"Name,UPN\nPupil one,{UPN}\n")
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w") as iz:
            iz.writestr("nhs.txt", f"NHS number {NHS}\n")
        zf.writestr("nested.zip", inner.getvalue())
    return buf.getvalue()


def _mbox(path):
    box = mailbox.mbox(path)
    for i in range(2):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "office@school.example", "la@la.example", f"m{i}"
        msg.set_content("See attached.")
        msg.add_attachment(f"UPN,Name\n{UPN},x\n", subtype="csv", filename="list.csv")
        box.add(msg)
    box.close()


def test_members_attachments_and_messages_are_counted(school):
    school.write_config(scan_before_packaging=True)
    (school.share / "archive.zip").write_bytes(_zip_with_csv())
    _mbox(school.share / "sent.mbox")
    res = create_package(school.settings(), [school.share / "archive.zip", school.share / "sent.mbox"],
                         recipient="LA", method=PasswordMethod(), out_dir=school.out)
    assert res.scan.status == "scanned"
    # The zip's CSV and its nested zip's text; each message's attachment.
    assert res.scan.entity_counts["UK_UPN"] == 3
    assert res.scan.entity_counts["UK_NHS"] == 1
    # zip, list.csv, nested.zip, nhs.txt; mbox, 2 messages, 2 attachments.
    assert res.scan.items == 9
    # list.csv, nhs.txt, both messages (their addresses) and both attachments.
    assert res.scan.files_with_personal_data == 6


def _hang(data: bytes):
    while True:
        time.sleep(0.01)


@pytest.fixture
def hanging_format(monkeypatch):
    monkeypatch.setitem(sniff.EXTENSIONS, ".hang", "hang")
    monkeypatch.setitem(EXTRACTORS, "hang", _hang)


def test_a_hanging_reader_is_stopped_by_the_scan_time_limit(school, hanging_format):
    school.write_config(scan_before_packaging=True)
    cfg = yaml.safe_load(school.config.read_text())
    cfg["scan"] = {"item_timeout_s": 2, "workers": 1}
    school.config.write_text(yaml.safe_dump(cfg))
    (school.share / "odd.hang").write_bytes(b"\x00\x01")
    (school.share / "note.txt").write_text(f"NHS {NHS}\n")
    started = time.monotonic()
    res = create_package(school.settings(), [school.share / "odd.hang", school.share / "note.txt"],
                         recipient="LA", method=PasswordMethod(), out_dir=school.out)
    assert time.monotonic() - started < 60
    assert res.scan.files_not_readable == 1 and res.scan.entity_counts == {"UK_NHS": 1}


def test_a_file_the_nightly_scan_read_is_not_read_again(school, monkeypatch):
    """Packaging a file whose contents the latest scan read under the same code, settings
    and roster takes that scan's counts without reading it (no classifier is even built);
    changed contents or a changed deciding setting make it read again."""
    from dataward.pipelines import classify
    from dataward.pipelines.scan import run_scan

    f = school.share / "census.csv"
    f.write_text(f"Name,UPN,NHS Number\nPupil One,{UPN},{NHS}\n")

    def config(**scan):
        school.config.write_text(yaml.safe_dump({
            "school": {"name": "Oakfield Primary School"},
            "sources": [{"name": "office", "path": str(school.share), "audience": "admin"}],
            "scan": scan,
            "transfer": {"allowed_roots": [str(school.share)], "gnupg_home": school.gnupg_home,
                         "scan_before_packaging": True}}))

    config()
    run_scan(school.settings())

    def not_again(*_a, **_k):
        raise AssertionError("the file was read again")

    with monkeypatch.context() as m:
        m.setattr(classify, "make_classifier", not_again)
        res = create_package(school.settings(), [f], recipient="LA", method=PasswordMethod(),
                             out_dir=school.out)
    assert res.scan.entity_counts == {"UK_NHS": 1, "UK_UPN": 1}
    assert res.scan.files_with_personal_data == 1

    config(max_file_mb=50)  # a setting that decides findings: the scan's result no longer stands
    with monkeypatch.context() as m, pytest.raises(AssertionError, match="read again"):
        m.setattr(classify, "make_classifier", not_again)
        create_package(school.settings(), [f], recipient="LA", method=PasswordMethod(),
                       out_dir=school.out)

    config()
    f.write_text(f"Name,UPN,NHS Number\nPupil One,{UPN},{NHS}\nPupil Two,,{NHS}\n")
    res = create_package(school.settings(), [f], recipient="LA", method=PasswordMethod(),
                         out_dir=school.out)
    assert res.scan.entity_counts == {"UK_NHS": 2, "UK_UPN": 1}
