"""Disposal certificates end to end through the CLI: record, sign, verify, tamper."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader


def flat(text: str) -> str:
    return " ".join(text.split())  # undo Rich's line wrapping



def _record(cli, tag: str, evidence: Path, *extra: str):
    args = ["dispose", "record", tag, "--method", "clear", "--route", "waste",
            "--recipient", "Acme Recycling Ltd", "--weee-note", "WTN-2026-118",
            "--authorised-by", "Jaswinder Patel", "--technician", "Samira Jones",
            "--date", "2026-03-12", *extra]
    args += ["--evidence", str(evidence)]
    return cli(*args)


def _cert_files(home: str) -> dict[str, Path]:
    folder = Path(home) / "assets" / "certificates"
    pdf = next(folder.glob("DW-*.pdf"))
    js = pdf.with_suffix(".json")
    return {"pdf": pdf, "json": js, "pdf_sig": Path(f"{pdf}.asc"),
            "json_sig": Path(f"{js}.asc")}


@pytest.fixture
def disposed(cli, registered, logs) -> dict[str, Path]:
    r = _record(cli, "OAK-0042", logs.ZERO_OK, "--licences-checked", "--personal-data", "yes",
                "--technician-title", "ICT Technician", "--validated-by", "Alan Reeve")
    assert r.exit_code == 0, r.output
    return {**_cert_files(registered["home"]), "gnupghome": Path(registered["gnupghome"])}


def test_certificate_round_trip_verifies_with_dataward_and_plain_gpg(cli, disposed):
    for key in ("pdf", "json"):
        r = cli("dispose", "verify", disposed[key])
        assert r.exit_code == 0, r.output
        assert "verified" in r.stdout
    cert_id = disposed["json"].stem
    r = cli("dispose", "verify", cert_id)  # both twins by id
    assert r.exit_code == 0 and r.stdout.count("signature good") == 2, r.output
    for key in ("pdf", "json"):
        gpg = subprocess.run(
            ["gpg", "--homedir", str(disposed["gnupghome"]), "--verify",
             str(disposed[f"{key}_sig"]), str(disposed[key])],
            capture_output=True, text=True)
        assert gpg.returncode == 0, gpg.stderr
        assert "Good signature" in gpg.stderr


def test_tampered_pdf_fails_verification(cli, disposed):
    data = bytearray(disposed["pdf"].read_bytes())
    i = data.find(b"Acme")
    if i < 0:  # text is in a compressed stream: flip a byte in the middle instead
        i = len(data) // 2
    data[i] ^= 0x01
    disposed["pdf"].write_bytes(bytes(data))
    r = cli("dispose", "verify", disposed["pdf"])
    assert r.exit_code == 6
    assert "altered" in flat(r.output)
    from dataward.ledger import Ledger
    from dataward.settings import load_settings
    with Ledger.for_settings(load_settings()) as ledger:  # the failed check is audited
        assert ledger.audit_records(action_prefix="assets.certificate.verify_failed")


def test_tampered_json_fails_verification(cli, disposed):
    cert = json.loads(disposed["json"].read_text())
    cert["disposal"]["recipient"] = "Someone Else Ltd"
    disposed["json"].write_text(json.dumps(cert, indent=2, sort_keys=True) + "\n")
    r = cli("dispose", "verify", disposed["json"])
    assert r.exit_code == 6
    assert "altered" in flat(r.output)


def _sign_again(path: Path, key: str, gnupghome: str) -> None:
    """Replace path's .asc with a fresh detached signature by ``key`` (plain gpg)."""
    Path(f"{path}.asc").unlink()
    subprocess.run(["gpg", "--homedir", gnupghome, "--batch", "--yes", "--local-user", key,
                    "--armor", "--detach-sign", str(path)], check=True, capture_output=True)


def test_resigned_tampered_json_still_fails_against_register(cli, disposed, signing_env):
    """Someone holding the key edits the JSON and signs it again: the register knows."""
    cert = json.loads(disposed["json"].read_text())
    cert["sanitization"]["method_type"] = "Purge"
    disposed["json"].write_text(json.dumps(cert, indent=2, sort_keys=True) + "\n")
    _sign_again(disposed["json"], signing_env["school"], signing_env["gnupghome"])
    r = cli("dispose", "verify", disposed["json"])
    assert r.exit_code == 6
    assert "differs from the register" in flat(r.output)


def test_certificate_signed_by_another_key_is_refused(cli, disposed, signing_env):
    _sign_again(disposed["pdf"], signing_env["recovery"], signing_env["gnupghome"])
    r = cli("dispose", "verify", disposed["pdf"])
    assert r.exit_code == 6
    assert "recorded key" in flat(r.output)


def test_missing_signature_fails(cli, disposed):
    disposed["json_sig"].unlink()
    r = cli("dispose", "verify", disposed["json"])
    assert r.exit_code == 6


def _pdf_text(path: Path, tag: str = "OAK-0042") -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    text = " ".join(out.split())
    # pypdf reads the same text (a second, independent extractor)
    alt = " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())
    assert tag in alt and "Samira Jones" in alt
    return text


def test_pdf_and_json_hold_every_required_field(disposed):
    cert = json.loads(disposed["json"].read_text())
    text = _pdf_text(disposed["pdf"])
    required = {
        # NIST SP 800-88 Appendix G
        "Make/vendor": "Dell", "Model": "Latitude 5420", "Media serial number": "S4EWNX0R123456",
        "Media type": "unknown", "Source": "asset OAK-0042", "Method type": "Clear",
        "Technique": "overwrite", "Tool used (version)": "nwipe 0.33",
        "Verification method": "full", "Media destination": "recycling",
        "Post-sanitization classification": "unclassified",
        "Name": "Samira Jones", "Title": "ICT Technician", "Validated by": "Alan Reeve",
        "Attestation": "I attest that the information provided",
        "Signing key fingerprint": cert["signature"]["key_fingerprint"],
        # school policy
        "Date disposed": "2026-03-12", "Authorised by": "Jaswinder Patel",
        "Software licensing verified": "yes", "Personal data likely held": "yes",
        "Route": "waste", "Recipient": "Acme Recycling Ltd",
        "WEEE waste transfer note": "WTN-2026-118", "PAT test date": "-",
        "Recipient's receipt SHA-256": "-",
        "Asset tag": "OAK-0042", "Serial number": "7XK2L53",
        "Certificate ID": cert["certificate_id"],
        "SHA-256": cert["evidence"][0]["sha256"],
    }
    for label, value in required.items():
        assert label in text, label
        assert value in text, (label, value)
    # the JSON twin holds the same values
    assert cert["disposal"]["weee_transfer_note"] == "WTN-2026-118"
    assert cert["authorisation"]["authorised_by"] == "Jaswinder Patel"
    assert cert["sanitization"]["tool"] == "nwipe 0.33"
    assert cert["media"][0]["serial"] == "S4EWNX0R123456"
    assert cert["validation"] == {"name": "Alan Reeve", "date": "2026-03-12"}


def test_real_nwipe_log_fills_the_erasure_fields(cli, registered, logs):
    r = _record(cli, "OAK-0043", logs.DOD_OK)
    assert r.exit_code == 0, r.output
    files = _cert_files(registered["home"])
    cert = json.loads(files["json"].read_text())
    [w] = cert["erasure_results"]
    assert w["tool"] == "nwipe 0.33"
    assert w["method"] == "DoD Short"
    assert w["verification"] == "all passes"
    assert w["passes"] == 3 and w["blanked"] is True
    assert w["device"] == "/dev/loop0" and w["model"] == "Loopback device"
    assert w["serial"] == "anonymised in the log"
    assert w["status"] == "Erased" and w["result"] == "passed"
    assert (w["pass_errors"], w["verification_errors"], w["sync_errors"]) == (0, 0, 0)
    assert cert["sanitization"]["method_details"] == "DoD Short, verify all passes, 1 round(s)"
    text = _pdf_text(files["pdf"], "OAK-0043")
    for v in ("DoD Short", "all passes", "Erased", "/dev/loop0", "anonymised in the log"):
        assert v in text


def test_disposal_is_chained_into_audit_log_without_names(cli, disposed, signing_env):
    from dataward.ledger import Ledger
    from dataward.settings import load_settings

    with Ledger.for_settings(load_settings()) as ledger:
        recs = ledger.audit_records(action_prefix="assets.dispose")
        assert ledger.verify_audit().ok
    [rec] = recs
    assert rec.subject == "OAK-0042"
    cert = json.loads(disposed["json"].read_text())
    assert rec.details["certificate_id"] == cert["certificate_id"]
    assert rec.details["json_sha256"] and rec.details["pdf_sha256"]
    dumped = json.dumps([r.details for r in recs]) + rec.subject + rec.actor
    for name in ("Samira", "Jaswinder", "Acme", "Alan Reeve", "Imogen"):
        assert name not in dumped
    log = (Path(signing_env["home"]) / "logs" / "dataward.log").read_text()
    for name in ("Samira", "Jaswinder", "Acme", "Imogen"):
        assert name not in log
    r = cli("audit", "verify")
    assert r.exit_code == 0, r.output


def test_second_disposal_of_the_same_asset_is_refused(cli, disposed, logs):
    r = _record(cli, "OAK-0042", logs.ZERO_OK)
    assert r.exit_code == 5
    assert "already been disposed" in flat(r.output)
    r = cli("assets", "show", "OAK-0042")
    assert "disposed" in r.stdout and disposed["json"].stem in r.stdout
