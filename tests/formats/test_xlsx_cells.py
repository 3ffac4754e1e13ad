"""Spreadsheet cells read by calamine give the recognizers the very text openpyxl's reader
gave them: the same values, cells and places (``Sheet!C7``), on awkward workbooks, a
dense MIS export and the repository's sample; a file calamine cannot read is read by
openpyxl."""
from __future__ import annotations

import io
from datetime import date, datetime, time

import openpyxl
import pytest

from dataward.classifiers.extractors import extract
from dataward.classifiers.extractors import office
from tests.dense_export import dense_csv
from tests.samples import SAMPLES


def _save(book: openpyxl.Workbook) -> bytes:
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _awkward() -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Pupils list"
    ws["C3"] = "Oakfield Primary, Class 4"          # a title off the corner
    ws.append([])
    ws.append([None, None, "UPN", "NHS Number", "DOB", "Born", "Year", "Fee", "Flag"])
    for i in range(30):
        ws.append([None, None, "E734229615934", 9434765919, date(2014, 3, 1 + i % 28),
                   datetime(2014, 3, 12, 10, 5), 5, 12.5 + i, i % 2 == 0])
    ws.append([None, None, "0012", 1e20, time(10, 30), -3, 5.0, None, "=1+1"])
    book.create_sheet("Empty")
    other = book.create_sheet("Staff")
    other["B2"] = "Forename"
    other["C2"] = "Surname"
    other["B3"], other["C3"] = "Amelia", "Khan"
    other["F9"] = "07700 900123"
    return _save(book)


def _dense() -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Export")
    for line in dense_csv(400).text.splitlines():
        sheet.append(line.split(","))
    return _save(book)


def _text(data: bytes) -> tuple[str, list, list]:
    doc = extract("xlsx", data)
    return doc.text, doc.marks, [(c.header, c.values, c.labels) for c in doc.columns]


@pytest.mark.parametrize("name", ["awkward", "dense", "sample"])
def test_calamine_cells_read_as_openpyxls(name, monkeypatch):
    data = {"awkward": _awkward, "dense": _dense,
            "sample": lambda: (SAMPLES / "pdscan" / "email.xlsx").read_bytes()}[name]()
    fast = _text(data)
    calls = []
    real = office._fast_rows

    def counted(data: bytes):
        rows = real(data)
        assert rows is not None
        return lambda title: calls.append(title) or rows(title)
    monkeypatch.setattr(office, "_fast_rows", counted)
    assert _text(data) == fast
    assert calls                                   # calamine read the sheets
    monkeypatch.setattr(office, "_fast_rows", lambda data: None)
    assert _text(data) == fast                     # openpyxl's reader: the same text
