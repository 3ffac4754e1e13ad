"""The scan before packaging: dataward's own classifiers run over the files; the counts
(never the values) reach the manifest, the ledger and the audit log."""
from __future__ import annotations

import io
import json
import zipfile

import pyzipper

from dataward.ledger import Ledger
from dataward.transfer import PasswordMethod, create_package


def test_entity_counts_reach_manifest_ledger_and_audit_but_no_values(school):
    school.write_config(scan_before_packaging=True)
    f = school.share / "letter.txt"
    f.write_text("Please contact the parent at parent.one@example.org about pupil NHS "
                 "number 943 476 5919.\n")
    res = create_package(school.settings(), [f], recipient="LA", method=PasswordMethod(),
                         out_dir=school.out)
    assert res.scan.status == "scanned"
    assert res.scan.entity_counts.get("EMAIL_ADDRESS") == 1
    assert res.scan.entity_counts.get("UK_NHS") == 1
    assert res.scan.files_with_personal_data == 1

    with pyzipper.AESZipFile(res.path) as oz:
        inner = oz.read("contents.zip", pwd=res.generated_password.encode())
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(inner)).read("MANIFEST-dataward.json"))
    assert manifest["entity_counts"] == res.scan.entity_counts

    with Ledger(school.settings().ledger_url) as ledger:
        rec = ledger.audit_records(action_prefix="package.create")[-1]
    assert rec.details["entity_counts"] == res.scan.entity_counts
    assert rec.details["scan_status"] == "scanned"
    for p in school.home.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            assert b"parent.one@example.org" not in data and b"943 476 5919" not in data, p
