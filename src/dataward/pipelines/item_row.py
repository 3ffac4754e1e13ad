"""One row of items.parquet as a typed object (DESIGN.md, "Data contracts").

A row is built by ``scan_item.base_row`` and changed as the item is read (format, status,
counts, risk, mail audience, SMB readers, the change against the last scan). Its fields
are the columns of ``outputs.ITEMS_SCHEMA``, in the same order, and a test holds the two
together (tests/pipelines/test_item_rows.py). The class has slots: setting a misspelt
field raises ``AttributeError`` where it is written, instead of a column that
``pa.Table.from_pylist`` would drop on the way to Parquet.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from .outputs import COUNT_COLUMNS, ITEMS_SCHEMA


@dataclass(slots=True)
class ItemRow:
    scan_id: str
    locator: str
    source: str
    path: str
    format: str = ""
    size: int = 0
    mtime: datetime | None = None
    mtime_ns: int | None = None
    inode: int | None = None
    owner: str = ""
    mode: str = ""
    sha256: str = ""
    status: str = "ok"             # ok | error | skipped | encrypted | unsupported | partial
    error: str = ""                # the reason, never document text
    audience: str = ""
    change: str = "new"            # new | changed | unchanged | moved
    n_findings: int = 0
    # One count per entity type (outputs.COUNT_COLUMNS).
    n_person: int = 0
    n_uk_upn: int = 0
    n_uk_uln: int = 0
    n_uk_nhs: int = 0
    n_uk_nino: int = 0
    n_uk_passport: int = 0
    n_uk_postcode: int = 0
    n_phone_number: int = 0
    n_email_address: int = 0
    n_date_of_birth: int = 0
    n_special_category: int = 0
    n_gps_location: int = 0
    special_category: bool = False
    special_categories: str = ""
    risk_score: float = 0.0
    risk_level: str = "none"
    taken: str = ""                # a photo's camera date, "YYYY-MM-DD HH:MM"
    ocr: str = ""                  # "" | read | partial | needed
    readers: str = ""              # SMB items: who can read it
    readers_from: str = ""         # ... and the folder each permission comes from

    def __getitem__(self, name: str) -> Any:
        """Read a field by its column name (``row["status"]``); an unknown name raises
        KeyError. Fields are set as attributes, never by key."""
        if name not in FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    def set(self, **values: Any) -> None:
        """Set several fields; an unknown name raises AttributeError."""
        for name, value in values.items():
            setattr(self, name, value)

    def set_count(self, column: str, n: int) -> None:
        if column not in COUNT_COLUMNS:
            raise AttributeError(f"{column} is not an entity count column")
        setattr(self, column, n)

    def count(self, column: str) -> int:
        if column not in COUNT_COLUMNS:
            raise AttributeError(f"{column} is not an entity count column")
        value: int = getattr(self, column)
        return value

    def clear_findings(self) -> None:
        """Counts, categories and risk back to none (a member starts from its parent's row)."""
        for column in COUNT_COLUMNS:
            setattr(self, column, 0)
        self.set(n_findings=0, special_category=False, special_categories="",
                 risk_score=0.0, risk_level="none")

    def copy(self, **changes: Any) -> ItemRow:
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ItemRow))


def items_table(rows: Iterable[ItemRow]) -> pa.Table:
    """Rows as a table of ``ITEMS_SCHEMA``, built column by column."""
    rows = list(rows)
    return pa.table({name: pa.array([getattr(r, name) for r in rows], ITEMS_SCHEMA.field(name).type)
                     for name in FIELDS}, schema=ITEMS_SCHEMA)
