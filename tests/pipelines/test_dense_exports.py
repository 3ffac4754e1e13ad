"""Dense MIS exports (one pupil per row: UPN, NHS number, DOB, postcode, phone, e-mail,
names) scan `ok` with every planted identifier found once per occurrence, and a large
CSV on one line is read as a stream within the item memory limit (real worker process,
real RSS).

Expected fingerprints are computed here with the standard library's HMAC from the
planted values, normalised by hand (and phone numbers by the phonenumbers library), not
by dataward's own normalisers."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import datetime
from pathlib import Path

import openpyxl
import phonenumbers
import pyarrow.parquet as pq

from dataward.pipelines.scan import run_scan
from dataward.pipelines.subject import SubjectQuery, find_subject
from tests.dense_export import ENTITIES, HEADER, dense_csv, roster_csv

ROWS = 8000  # enough that the classifier before issue 15 passed the 60 s limit


def _normalised(entity: str, value: str) -> str:
    if entity in ("UK_UPN", "UK_NHS"):
        return "".join(ch for ch in value if ch.isalnum()).upper()
    if entity == "DATE_OF_BIRTH":
        return datetime.strptime(value, "%d/%m/%Y").date().isoformat()
    if entity == "UK_POSTCODE":
        outward, inward = value.split()
        return f"{outward} {inward}"
    if entity == "PHONE_NUMBER":
        return phonenumbers.format_number(phonenumbers.parse(value, "GB"),
                                          phonenumbers.PhoneNumberFormat.E164)
    if entity == "EMAIL_ADDRESS":
        return value.lower()
    return " ".join(value.lower().split())  # PERSON: "forename surname"


def _expected(key: bytes, planted: dict[str, list[str]]) -> Counter:
    return Counter(
        (entity, hmac.new(key, f"{entity}:{_normalised(entity, v)}".encode(),
                          hashlib.sha256).hexdigest()[:32])
        for entity, values in planted.items() for v in values)


def _settings(tmp_path: Path, share: Path, roster: Path, **scan):
    from dataward.settings import load_settings
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text(json.dumps({
        "sources": [{"name": "admin", "path": str(share), "audience": "admin"}],
        "rosters": [{"path": str(roster), "kind": "pupils"}],
        "scan": {"workers": 1, **scan}}), encoding="utf-8")
    return load_settings(cfg)


def test_dense_export_scans_ok_with_every_identifier_found(dw_home, tmp_path):
    export = dense_csv(ROWS, seed=3)
    share = tmp_path / "share"
    share.mkdir()
    (share / "census.csv").write_text(export.text, encoding="utf-8")
    book = openpyxl.Workbook()
    for line in export.text.splitlines():
        book.active.append(line.split(","))
    book.save(share / "census.xlsx")
    roster = tmp_path / "pupils.csv"
    roster.write_text(roster_csv(export.names), encoding="utf-8")
    settings = _settings(tmp_path, share, roster)

    result = run_scan(settings)

    items = pq.read_table(result.out_dir / "items.parquet").to_pandas().set_index("path")
    findings = pq.read_table(result.out_dir / "findings.parquet").to_pandas()
    key = (dw_home / "keys" / "fingerprint.key").read_bytes()
    expected = _expected(key, export.planted)
    assert sum(expected.values()) == ROWS * len(ENTITIES)
    for name in ("census.csv", "census.xlsx"):
        item = items.loc[str(share / name)]
        assert item.status == "ok", item.error
        assert item.n_findings == ROWS * len(ENTITIES)
        mine = findings[findings.locator == item.locator]
        got = Counter(zip(mine.entity_type, mine.fingerprint))
        assert got == expected, name  # one row per occurrence, each with its fingerprint
        # Each finding says which cell it is in: the UPN column is A, row 2 the first pupil.
        upns = mine[mine.entity_type == "UK_UPN"]["where"]
        assert set(upns.str.replace(r"^(Sheet!)?A\d+$", "A", regex=True)) == {"A"}, name
        assert not any(v in " ".join(mine.preview) for v in export.planted["UK_UPN"][:50])

    # Subject search finds a pupil from the middle of the export by each identifier.
    i = ROWS // 2
    query = SubjectQuery(name=export.planted["PERSON"][i], upn=export.planted["UK_UPN"][i],
                         nhs=export.planted["UK_NHS"][i],
                         dob=export.planted["DATE_OF_BIRTH"][i],
                         phone=export.planted["PHONE_NUMBER"][i])
    hits = {Path(h.path).name: h.counts for h in find_subject(settings, query).hits}
    for name in ("census.csv", "census.xlsx"):
        assert hits[name]["UK_UPN"] >= 1 and hits[name]["UK_NHS"] >= 1, name
        assert hits[name]["PHONE_NUMBER"] >= 1 and hits[name]["PERSON"] >= 1, name
        assert hits[name]["DATE_OF_BIRTH"] >= 1, name


def test_identifier_column_cells_that_are_not_identifiers_are_read_as_text(dw_home, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    # A wrong check letter is no UPN; a note under "NHS Number" is read as text, where
    # the e-mail address in it is found; the valid NHS number beside it is found too.
    (share / "list.csv").write_text(
        f"{','.join(HEADER[:7])}\n"
        "U820200014014,Khan,Amelia,12/03/2014,F,6,943 476 5919\n"
        "U820200014013,Khan,Amelia,12/03/2014,F,6,see amelia.khan@example.co.uk\n",
        encoding="utf-8")
    roster = tmp_path / "pupils.csv"
    roster.write_text("Legal Forename,Legal Surname\nAmelia,Khan\n", encoding="utf-8")
    result = run_scan(_settings(tmp_path, share, roster))
    items = pq.read_table(result.out_dir / "items.parquet").to_pandas().iloc[0]
    assert items.status == "ok"
    assert (items.n_uk_upn, items.n_uk_nhs, items.n_email_address) == (1, 1, 1)
    assert (items.n_date_of_birth, items.n_person) == (2, 2)


LINE_SCRIPT = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from dataward.settings import load_settings
    from dataward.pipelines.scan import run_scan
    import pyarrow.parquet as pq

    from dataward.pipelines.scan import build_roster, make_classifier

    def rss_kb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    settings = load_settings(Path(sys.argv[1]))
    # What the scanning process holds when it forks its worker (a classifier built):
    # the worker starts with these pages resident.
    classifier = make_classifier(settings, build_roster(settings))
    baseline = rss_kb()
    result = run_scan(settings)
    item = pq.read_table(result.out_dir / "items.parquet").to_pylist()[0]
    print(json.dumps({"status": item["status"], "error": item["error"],
                      "upn": item["n_uk_upn"], "nhs": item["n_uk_nhs"],
                      "baseline_kb": baseline,
                      "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
""")


def test_large_single_line_csv_is_streamed_within_the_memory_limit(dw_home, tmp_path):
    export = dense_csv(2000, seed=5)
    rows = export.text.splitlines()[1:]
    filler = ",".join(["pencil case"] * 200)  # about 2.4 KB of cells between pupils
    cells = [f"{row},{filler}" for row in rows]
    share = tmp_path / "share"
    share.mkdir()
    target = 48 * 1024 * 1024
    with open(share / "oneline.csv", "w", encoding="utf-8") as fh:
        written = 0
        while written < target:
            chunk = ",".join(cells) + ","
            fh.write(chunk)
            written += len(chunk)
    repeats = written // len(",".join(cells) + ",")
    roster = tmp_path / "pupils.csv"
    roster.write_text(roster_csv(export.names), encoding="utf-8")
    memory_mb = 256
    settings_path = tmp_path / "dataward.yaml"
    _settings(tmp_path, share, roster, item_memory_mb=memory_mb)  # writes the config
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", LINE_SCRIPT, str(settings_path)], env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["status"] == "ok", got["error"]
    assert got["upn"] == got["nhs"] == 2000 * repeats
    # The worker was forked from the scanning process: what it added on top of the pages
    # it started with is what the item cost.
    added_mb = (got["worker_kb"] - got["baseline_kb"]) / 1024
    assert added_mb < memory_mb, got
