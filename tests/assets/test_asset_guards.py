"""Guard rails of a disposal, through the CLI (nothing is recorded when refused)."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest


def flat(text: str) -> str:
    return " ".join(text.split())  # undo Rich's line wrapping


BASE = ["--recipient", "Acme Recycling Ltd", "--authorised-by", "J Patel",
        "--technician", "S Jones", "--date", "2026-03-12"]


def _dispose(cli, tag, method, route, *extra):
    return cli("dispose", "record", tag, "--method", method, "--route", route, *BASE, *extra)


def _nothing_recorded(cli, home: str, tag: str) -> None:
    assert "in-use" in cli("assets", "show", tag).stdout
    certs = Path(home) / "assets" / "certificates"
    assert not certs.exists() or not any(certs.iterdir())


@pytest.mark.parametrize("method", ["clear", "purge"])
@pytest.mark.parametrize("log", ["VERIFY_FAILED", "ABORTED"], ids=["failed", "aborted"])
def test_failed_or_aborted_wipe_blocks_clear_and_purge(cli, registered, method, log, logs):
    log = getattr(logs, log)
    r = _dispose(cli, "OAK-0042", method, "waste", "--weee-note", "W1", "--evidence", log)
    assert r.exit_code == 5, r.output
    assert log.name in flat(r.output) and "successful wipe" in flat(r.output)
    # even beside a passing log
    r = _dispose(cli, "OAK-0042", method, "waste", "--weee-note", "W1", "--evidence", log,
                 "--evidence", logs.ZERO_OK)
    assert r.exit_code == 5
    _nothing_recorded(cli, registered["home"], "OAK-0042")


def test_destroy_after_a_failed_wipe_needs_a_destruction_certificate(cli, registered, tmp_path, logs):
    r = _dispose(cli, "OAK-0042", "destroy", "waste", "--weee-note", "W1")
    assert r.exit_code == 5 and "destruction certificate" in flat(r.output)
    cert = tmp_path / "shredding-certificate.pdf"
    cert.write_bytes(b"%PDF-1.4\n% vendor certificate of destruction\n")
    r = _dispose(cli, "OAK-0042", "destroy", "waste", "--weee-note", "W1",
                 "--evidence", logs.VERIFY_FAILED, "--evidence", cert)
    assert r.exit_code == 0, r.output


def test_storage_asset_needs_erasure_evidence(cli, registered):
    r = _dispose(cli, "OAK-0042", "clear", "waste", "--weee-note", "W1")
    assert r.exit_code == 5 and "--evidence" in flat(r.output)
    _nothing_recorded(cli, registered["home"], "OAK-0042")


def test_vendor_erasure_certificate_is_accepted_and_kept_with_its_hash(cli, registered, tmp_path):
    import hashlib
    cert = tmp_path / "blancco-report.pdf"
    cert.write_bytes(b"%PDF-1.4\n% vendor erasure report\n")
    r = _dispose(cli, "OAK-0042", "purge", "return", "--evidence", cert)
    assert r.exit_code == 0, r.output
    digest = hashlib.sha256(cert.read_bytes()).hexdigest()
    kept = Path(registered["home"]) / "assets" / "evidence" / digest
    assert kept.read_bytes() == cert.read_bytes()
    assert kept.stat().st_mode & 0o777 == 0o600


def test_monitor_without_storage_needs_no_evidence(cli, registered):
    r = _dispose(cli, "OAK-0100", "destroy", "waste", "--weee-note", "WTN-1")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("route", ["gift", "sale"])
def test_gift_and_sale_need_a_recent_pat_date(cli, registered, route):
    r = _dispose(cli, "OAK-0100", "clear", route)
    assert r.exit_code == 5 and "PAT test date" in flat(r.output)
    r = _dispose(cli, "OAK-0100", "clear", route, "--pat-date", "2024-01-10")
    assert r.exit_code == 5 and "more than 365 days" in flat(r.output)
    r = _dispose(cli, "OAK-0100", "clear", route, "--pat-date", "2026-03-13")
    assert r.exit_code == 5 and "after the disposal date" in flat(r.output)
    r = _dispose(cli, "OAK-0100", "clear", route, "--pat-date", "2026-02-01")
    assert r.exit_code == 0, r.output


def test_waste_needs_a_weee_note(cli, registered):
    r = _dispose(cli, "OAK-0100", "destroy", "waste")
    assert r.exit_code == 5 and "WEEE" in flat(r.output)


def test_wipe_log_of_another_drive_is_refused(cli, registered, tmp_path, logs):
    data = logs.ZERO_OK.read_bytes()
    from dataward.assets.nwipe import parse_nwipe_log
    raw = bytes.fromhex(parse_nwipe_log(data).drives[0].serial_hex)
    other = tmp_path / "other-drive.log"
    other.write_bytes(data.replace(raw, b"WD-SOMEONE-ELSES"))
    r = _dispose(cli, "OAK-0042", "clear", "waste", "--weee-note", "W1", "--evidence", other)
    assert r.exit_code == 5 and "WD-SOMEONE-ELSES" in flat(r.output)
    mine = tmp_path / "my-drive.log"
    mine.write_bytes(data.replace(raw, b"S4EWNX0R123456"))
    r = _dispose(cli, "OAK-0042", "clear", "waste", "--weee-note", "W1", "--evidence", mine)
    assert r.exit_code == 0, r.output
    import json
    cert = json.loads(next((Path(registered["home"]) / "assets" / "certificates")
                           .glob("*.json")).read_text())
    assert cert["media"][0]["erasure_result"] == "passed"


def test_future_date_and_missing_signing_key(cli, registered, monkeypatch):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    r = cli("dispose", "record", "OAK-0100", "--method", "destroy", "--route", "return",
            "--recipient", "Iiyama UK", "--authorised-by", "J Patel", "--technician", "S Jones",
            "--date", tomorrow)
    assert r.exit_code == 5 and "future" in flat(r.output)
    monkeypatch.delenv("DATAWARD_ASSETS__SIGNING_KEY")
    r = _dispose(cli, "OAK-0100", "destroy", "return")
    assert r.exit_code == 78 and "assets.signing_key" in flat(r.output)
    _nothing_recorded(cli, registered["home"], "OAK-0100")


def test_unknown_asset(cli, registered):
    assert _dispose(cli, "NOPE-1", "destroy", "return").exit_code == 4


def _two_drive_log(logs, tmp_path, name, loop0_status, loop0_serial=b"S4EWNX0R123456"):
    """One nwipe run over two drives: loop0 (this laptop's) and loop1 (another asset's,
    which failed)."""
    from dataward.assets.nwipe import parse_nwipe_log
    data = logs.ZERO_OK.read_bytes()
    raw = bytes.fromhex(parse_nwipe_log(data).drives[0].serial_hex)
    lines = data.replace(raw, loop0_serial).replace(b"| Erased |", loop0_status).split(b"\n")
    err = next(i for i, line in enumerate(lines) if line.startswith(b"     loop0 |           0"))
    st = next(i for i, line in enumerate(lines) if b"loop0 |" in line and b"B/s" in line)
    lines.insert(st + 1, b"!    loop1 |-FAILED-|   0 B/s | 00:00:00 | Disk/WD-OTHER-ASSET")
    lines.insert(err + 1, b"!    loop1 |           0 |                    7 |       0")
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines).replace(b"successfully completed",
                                               b"exited with errors, check the log"))
    return path


def test_batch_wipe_log_counts_only_this_assets_drive(cli, registered, tmp_path, logs):
    bad = _two_drive_log(logs, tmp_path, "batch-bad.log", b"|-FAILED-|")
    r = _dispose(cli, "OAK-0042", "clear", "waste", "--weee-note", "W1", "--evidence", bad)
    assert r.exit_code == 5 and "does not show a successful wipe" in flat(r.output)
    good = _two_drive_log(logs, tmp_path, "batch-good.log", b"| Erased |")
    r = _dispose(cli, "OAK-0042", "clear", "waste", "--weee-note", "W1", "--evidence", good)
    assert r.exit_code == 0, r.output
    import json
    cert = json.loads(next((Path(registered["home"]) / "assets" / "certificates")
                           .glob("*.json")).read_text())
    # the certificate lists this asset's drive, not the other asset's
    assert [w["serial"] for w in cert["erasure_results"]] == ["S4EWNX0R123456"]
