"""Names and addresses in From, To, Cc, Bcc, Reply-To and Sender are findings placed in
their header; the school's own addresses weigh little in the risk score."""
from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from dataward.pipelines.scan import run_scan

from .conftest import NAME, SCHOOL, findings, items, message


def _write(folder: Path, name: str, msg: EmailMessage) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(msg.as_bytes())


def test_every_address_header_is_scanned(settings_for, tmp_path):
    folder = tmp_path / "eml"
    msg = message(to=f'"{NAME}" <amelia.home@gmail.com>', cc=f"office@{SCHOOL}",
                  bcc="gran.khan@yahoo.co.uk", body="See you at 3pm.")
    del msg["From"]
    msg["From"] = '"Khan, Amelia" <amelia.home@gmail.com>'
    msg["Reply-To"] = "dad.khan@hotmail.co.uk"
    msg["Sender"] = f"head@{SCHOOL}"
    _write(folder, "parent.eml", msg)
    result = run_scan(settings_for([("eml", folder, "eml")]))
    found = findings(result)
    pairs = sorted(zip(found["where"], found.entity_type))
    assert pairs == sorted([
        ("from", "PERSON"), ("from", "EMAIL_ADDRESS"), ("sender", "EMAIL_ADDRESS"),
        ("reply-to", "EMAIL_ADDRESS"), ("to", "PERSON"), ("to", "EMAIL_ADDRESS"),
        ("cc", "EMAIL_ADDRESS"), ("bcc", "EMAIL_ADDRESS")])
    # One person, whichever way the header wrote the name.
    assert found[found.entity_type == "PERSON"].fingerprint.nunique() == 1
    assert items(result).audience.tolist() == ["external-mail"]


def test_school_addresses_weigh_little_and_a_parents_address_counts(settings_for, tmp_path):
    folder = tmp_path / "eml"
    _write(folder, "staff.eml", message(to=f"office@{SCHOOL}", body="Staff briefing at 3pm."))
    _write(folder, "parent.eml", message(to="amelia.home@gmail.com", body="Staff briefing at 3pm."))
    rows = items(run_scan(settings_for([("eml", folder, "eml")])))
    score = {Path(loc).name: s for loc, s in rows.risk_score.items()}
    assert rows.n_email_address.tolist() == [2, 2]
    # A school address in a header counts 0.05, any other 0.5; EMAIL_ADDRESS weighs 0.5.
    # Staff to staff: (0.05 + 0.05) x 0.5 x internal-mail 1.0 = 0.05.
    # Staff to a parent: (0.05 + 0.5) x 0.5 x external-mail 3.0 = 0.825.
    assert score == {"staff.eml": 0.05, "parent.eml": 0.83}


def test_a_staff_name_in_from_does_not_make_a_leaflet_special_category(settings_for, tmp_path):
    folder = tmp_path / "eml"
    msg = message(to=f"all-staff@{SCHOOL}", body="Reminder: asthma awareness training.")
    del msg["From"]
    msg["From"] = f'"{NAME}" <head@{SCHOOL}>'
    _write(folder, "leaflet.eml", msg)
    rows = items(run_scan(settings_for([("eml", folder, "eml")])))
    assert rows.n_person.tolist() == [1]
    assert rows.special_category.tolist() == [False]
