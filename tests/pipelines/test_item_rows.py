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
