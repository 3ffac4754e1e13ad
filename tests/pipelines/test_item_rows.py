"""Item and finding rows are checked against the Parquet schema: a misspelt column is an
error, not a column that silently disappears from items.parquet."""
from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from dataward.pipelines.outputs import FINDINGS_SCHEMA, ITEMS_SCHEMA, table_of, write_table


def test_a_misspelt_item_column_fails_instead_of_vanishing(tmp_path):
    path = tmp_path / "items.parquet"
    write_table([{"locator": "file:///a", "risk_score": 0.5}], ITEMS_SCHEMA, path)
    assert pq.read_table(path).column("risk_score").to_pylist() == [0.5]
    with pytest.raises(ValueError, match="risk_scor\\b"):
        write_table([{"locator": "file:///a", "risk_scor": 0.5}], ITEMS_SCHEMA, path)


def test_a_misspelt_finding_column_fails(tmp_path):
    with pytest.raises(ValueError, match="fingerprnt"):
        write_table([{"locator": "file:///a", "fingerprnt": "ab"}], FINDINGS_SCHEMA,
                    tmp_path / "f.parquet")
    with pytest.raises(ValueError, match="entity\\b"):
        table_of([{"locator": "file:///a", "entity": "PERSON"}], FINDINGS_SCHEMA)


def test_the_item_row_has_exactly_the_columns_of_items_parquet_in_order():
    """A field of ItemRow that items.parquet lacks (or a column no field fills) fails here,
    not as a column silently missing from a school's report."""
    from dataclasses import fields

    from dataward.pipelines.item_row import ItemRow

    assert [f.name for f in fields(ItemRow)] == ITEMS_SCHEMA.names


def test_item_row_types_match_the_schema_and_a_misspelt_field_fails_where_it_is_set(tmp_path):
    from datetime import UTC, datetime

    from dataward.pipelines.item_row import ItemRow, items_table

    row = ItemRow(scan_id="s1", locator="file:///a.docx", source="staff", path="/a.docx",
                  size=10, mtime=datetime(2026, 1, 2, tzinfo=UTC), mtime_ns=1, inode=2,
                  audience="staff")
    row.set(status="partial", error="page 2 not read", risk_score=0.25, special_category=True)
    row.set_count("n_uk_upn", 3)
    path = tmp_path / "items.parquet"
    write_table(items_table([row]), ITEMS_SCHEMA, path)
    back = pq.read_table(path)
    assert back.schema == ITEMS_SCHEMA
    (got,) = back.to_pylist()
    assert got["status"] == "partial" and got["n_uk_upn"] == 3 and got["risk_score"] == 0.25
    assert got["special_category"] is True and got["mtime"] == datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(AttributeError):
        row.set(risk_scor=0.5)
    with pytest.raises(AttributeError):
        row.n_uk_upm = 1  # type: ignore[attr-defined]  # the misspelling under test
    with pytest.raises(AttributeError):
        row.set_count("n_upn", 1)


def test_finding_fields_are_the_findings_columns():
    from dataward.classifiers.engine import Finding
    from dataward.pipelines.outputs import FINDING_FIELDS

    assert Finding._fields == FINDING_FIELDS
    assert ["scan_id", "locator", *FINDING_FIELDS] == FINDINGS_SCHEMA.names


def test_a_scanned_item_and_its_members_are_typed_rows(dw_home, tmp_path):
    """Rows built by the scan (a file, a zip's member) go to Parquet through ItemRow."""
    import zipfile

    from dataward.connectors.filesystem import walk
    from dataward.connectors.roster import Roster
    from dataward.pipelines.item_row import ItemRow
    from dataward.pipelines.scan import make_classifier
    from dataward.pipelines.scan_item import ItemContext, process_entry
    from dataward.settings import Source, load_settings

    share = tmp_path / "share"
    share.mkdir()
    with zipfile.ZipFile(share / "class.zip", "w") as z:
        z.writestr("list.txt", "Pupil UPN A123456789012 and NHS 943 476 5919\n")
    settings = load_settings()
    ctx = ItemContext(settings, make_classifier(settings, Roster()), "s1")
    (entry,) = walk(Source(name="s", path=share, audience="staff"))
    outcome = process_entry(entry, "s", "staff", ctx)
    parts = list(outcome.flatten())
    assert [type(p.item) for p in parts] == [ItemRow, ItemRow]
    member = parts[1].item
    assert member.locator.endswith("class.zip!/list.txt") and member.format == "txt"
    assert member.n_uk_nhs == 1 and member.n_findings >= 1
    assert parts[0].item.n_findings == 0  # counts are the member's, not the container's
