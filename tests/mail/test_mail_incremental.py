"""Rescans of mail exports: an unchanged mailbox is not read again; an mbox that only
grew has its new messages read and keeps last scan's results for the others."""
from __future__ import annotations

from dataward.pipelines.scan import run_scan

from .conftest import UPN, findings, items, message, write_mbox

CSV = f"Name,UPN\nAmelia Khan,{UPN}\n".encode()


def append(path, messages):
    write_mbox(path, messages)  # mailbox.mbox appends to an existing file


def test_unchanged_mailbox_is_not_read_again(settings_for, tmp_path):
    box = write_mbox(tmp_path / "head.mbox", [message(body=f"UPN {UPN}", msgid=f"<{i}@x>")
                                              for i in range(3)])
    settings = settings_for([("head", box, "mbox")])
    first = run_scan(settings)
    again = run_scan(settings)
    assert again.read == 0 and again.reused == first.items == 4
    # Each message: its UPN, and the From and To addresses (mail headers are read).
    assert len(findings(again)) == len(findings(first)) == 9


def test_appended_mail_is_read_and_earlier_messages_are_kept(settings_for, tmp_path):
    box = write_mbox(tmp_path / "head.mbox", [
        message(body=f"UPN {UPN}", msgid=f"<{i}@oakfield.sch.uk>",
                attachments=[("pupils.csv", CSV, "text/csv")]) for i in range(3)])
    settings = settings_for([("head", box, "mbox")])
    run_scan(settings)
    inode = box.stat().st_ino
    append(box, [message(to="parent@example.com", body=f"UPN {UPN}", msgid="<new1@x>"),
                 message(body="no data", msgid="<new2@x>")])
    assert box.stat().st_ino == inode  # appended in place, as mail clients do

    second = run_scan(settings)
    rows = items(second)
    top = f"file://{box}"
    assert rows.loc[top, "change"] == "changed"
    for n in (1, 2, 3):
        assert rows.loc[f"{top}#{n}", "change"] == "unchanged"
        assert rows.loc[f"{top}#{n}!/pupils.csv", "change"] == "unchanged"
        assert rows.loc[f"{top}#{n}", "scan_id"] == second.scan_id
    assert rows.loc[f"{top}#4", "change"] == rows.loc[f"{top}#5", "change"] == "new"
    assert rows.loc[f"{top}#4", "audience"] == "external-mail"
    # Only the mbox row and the two new messages were read; six rows came from last scan.
    assert second.read == 3 and second.reused == 6
    found = findings(second)
    assert set(found.locator.str.removeprefix(top)) == {
        "#1", "#1!/pupils.csv", "#2", "#2!/pupils.csv", "#3", "#3!/pupils.csv", "#4", "#5"}
    assert set(found.scan_id) == {second.scan_id}

    # A full scan reads everything and finds the same.
    full = run_scan(settings, full=True)
    assert full.read == full.items == 9
    assert len(findings(full)) == len(found)


def test_rewritten_mailbox_is_read_again(settings_for, tmp_path):
    box = write_mbox(tmp_path / "head.mbox", [message(body=f"UPN {UPN}", msgid=f"<{i}@x>")
                                              for i in range(3)])
    settings = settings_for([("head", box, "mbox")])
    run_scan(settings)
    # An earlier message edited (same length) and a new one appended: not a pure append.
    data = box.read_bytes().replace(b"UPN " + UPN.encode(), b"UPN XXXXXXXXXXXXX", 1)
    box.write_bytes(data)
    append(box, [message(body="new", msgid="<new@x>")])
    again = run_scan(settings)
    rows = items(again)
    assert again.reused == 0 and again.read == 5
    assert rows.loc[f"file://{box}#1", "n_uk_upn"] == 0
    assert rows.loc[f"file://{box}#2", "n_uk_upn"] == 1
