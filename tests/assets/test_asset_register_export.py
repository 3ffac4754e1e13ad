"""The disposal register export for audit, and help text of every command."""
from __future__ import annotations

import csv

import pyarrow.parquet as pq


def flat(text: str) -> str:
    return " ".join(text.split())  # undo Rich's line wrapping



def _dispose(cli, tag, when, *extra, recipient="Acme Recycling Ltd"):
    return cli("dispose", "record", tag, "--method", "destroy", "--route", "waste",
               "--recipient", recipient, "--weee-note", f"WTN-{tag}",
               "--authorised-by", "J Patel", "--technician", "S Jones", "--date", when, *extra)


def test_register_export_by_year_csv_and_parquet(cli, registered, tmp_path, logs):
    formula = "=HYPERLINK(\"http://x\")"
    assert _dispose(cli, "OAK-0100", "2025-12-20", recipient=formula).exit_code == 0
    r = cli("dispose", "record", "OAK-0042", "--method", "clear", "--route", "waste",
            "--recipient", "Acme Recycling Ltd", "--weee-note", "WTN-9", "--authorised-by",
            "J Patel", "--technician", "S Jones", "--date", "2026-01-05",
            "--evidence", logs.ZERO_OK)
    assert r.exit_code == 0, r.output
    out = tmp_path / "d.csv"
    r = cli("dispose", "register", "--year", "2026", "--format", "csv", "--out", out)
    assert r.exit_code == 0 and "wrote 1" in r.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["asset_tag"] for row in rows] == ["OAK-0042"]
    row = rows[0]
    assert row["method_type"] == "Clear" and row["tool"] == "nwipe 0.33"
    assert row["erasure_passed"] == "True" and row["weee_transfer_note"] == "WTN-9"
    assert row["media_serials"] == "S4EWNX0R123456" and len(row["pdf_sha256"]) == 64
    pq_out = tmp_path / "d.parquet"
    r = cli("dispose", "register", "--format", "parquet", "--out", pq_out)
    assert r.exit_code == 0
    table = pq.read_table(pq_out).to_pylist()
    assert [t["asset_tag"] for t in table] == ["OAK-0100", "OAK-0042"]
    assert table[0]["erasure_passed"] is None and table[1]["erasure_passed"] is True
    assert table[0]["recipient"] == formula  # Parquet keeps the value as it is
    all_csv = tmp_path / "all.csv"
    assert cli("dispose", "register", "--out", all_csv).exit_code == 0
    first = next(csv.DictReader(all_csv.open(encoding="utf-8")))
    assert first["recipient"] == "'" + formula  # a spreadsheet will not run it


def test_every_assets_and_dispose_command_has_help_with_an_example(cli):
    from dataward.cli.assets import assets_app, dispose_app
    for group, app in (("assets", assets_app), ("dispose", dispose_app)):
        for cmd in app.registered_commands:
            assert cmd.callback.__doc__ and "Example: dataward" in cmd.callback.__doc__
            r = cli(group, cmd.name, "--help")
            assert r.exit_code == 0 and "Example" in r.stdout
