"""The time limit scales with what an item holds: a streamed item that keeps reporting
progress may run past the size-based limit (up to a ceiling), while a reader that stops
making progress is still stopped.

The readers are test-only piece generators registered for made-up formats; workers are
forked from the test process, so they see the registration."""
from __future__ import annotations

import time

import pyarrow.parquet as pq
import pytest

from dataward.classifiers import sniff
from dataward.classifiers.extractors import Extracted
from dataward.classifiers.extractors.text import PIECES

PIECE_TEXT = "Pupil UPN U820200014013\n"


def _slow(data: bytes):
    for _ in range(8):  # a dense item: every piece takes a while, and each one ends
        time.sleep(0.5)
        yield Extracted(PIECE_TEXT)


def _stalls(data: bytes):
    for _ in range(4):
        time.sleep(0.5)
        yield Extracted(PIECE_TEXT)
    while True:  # then the reader hangs
        time.sleep(0.05)


@pytest.fixture
def streamed_formats(monkeypatch):
    for ext, fn in ((".slow", _slow), (".stalls", _stalls)):
        monkeypatch.setitem(sniff.EXTENSIONS, ext, ext[1:])
        monkeypatch.setitem(PIECES, ext[1:], fn)


def test_progress_extends_the_limit_and_a_stall_still_stops(dw_home, tmp_path, streamed_formats):
    from dataward.pipelines.scan import run_scan
    from dataward.settings import Source, load_settings

    cfg = tmp_path / "dataward.yaml"
    cfg.write_text("scan: {workers: 2, item_timeout_s: 2}\n")
    settings = load_settings(cfg)
    share = tmp_path / "share"
    share.mkdir()
    # 200 KB: a size-based limit of 2.4 s, a ceiling of 6 s at the densest rate.
    for name in ("export.slow", "reader.stalls"):
        (share / name).write_bytes(b"\x00\x01" * 100_000)
    result = run_scan(settings, sources=[Source(name="s", path=share, audience="staff")],
                      adhoc=True)
    items = {r["path"].rsplit("/", 1)[1]: r
             for r in pq.read_table(result.out_dir / "items.parquet").to_pylist()}
    slow = items["export.slow"]
    assert slow["status"] == "ok", slow["error"]  # 4 s of steady progress: not stopped
    assert slow["n_uk_upn"] == 8
    stalled = items["reader.stalls"]
    assert stalled["status"] == "error"
    assert "no progress" in stalled["error"] and "time limit" in stalled["error"]
