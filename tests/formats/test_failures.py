"""A damaged file is `corrupt`; a fault in dataward's own code is not blamed on the file;
the cause is logged (type and frames, never the parser's message) for --debug."""
from __future__ import annotations

import io
import logging
import zipfile

import pytest

from dataward.classifiers.extractors.failure import failure_reason
from dataward.classifiers.extractors.workbook_parts import evaluate

from .conftest import run


def _raised(fn) -> BaseException:
    with pytest.raises(Exception) as info:
        fn()
    return info.value


def test_a_missing_part_is_a_corrupt_container_and_the_log_has_no_document_text(caplog):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/other.xml", "<x/>")
    exc = _raised(lambda: zipfile.ZipFile(buf).read("Amelia Khan EHCP.docx"))
    with caplog.at_level(logging.DEBUG, logger="dataward.scan.extract"):
        reason = failure_reason("docx", exc, "file:///share/Amelia%20Khan/a.docx")
    assert reason == "corrupt docx: not a valid docx container (KeyError)"
    assert "KeyError raised at zipfile.py" in caplog.text
    # Neither the parser's message nor the path (it can name a pupil) is logged.
    assert "Amelia" not in caplog.text
    import hashlib
    digest = hashlib.sha256(b"file:///share/Amelia%20Khan/a.docx").hexdigest()[:12]
    assert f"item {digest}" in caplog.text


def test_a_programming_error_in_dataward_is_not_called_corrupt(caplog):
    exc = _raised(lambda: evaluate(None, lambda ref: None))  # a bug: None is not a formula
    with caplog.at_level(logging.DEBUG, logger="dataward.scan.extract"):
        reason = failure_reason("xlsx", exc, "file:///share/b.xlsx")
    assert reason.startswith("internal error in dataward while reading xlsx "
                             "(AttributeError at workbook_parts.py:")
    assert "corrupt" not in reason and "please report it" in reason
    assert "WARNING" in caplog.text or any(r.levelno == logging.WARNING for r in caplog.records)


def test_a_docx_without_its_document_part_is_corrupt_in_a_scan(settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    with zipfile.ZipFile(share / "letter.docx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/styles.xml", "<w:styles/>")
    s = run(settings, share)
    row = s.items["letter.docx"]
    assert (row.status, row.error) == ("error", "corrupt docx: not a valid docx container (BadZipFile)")
