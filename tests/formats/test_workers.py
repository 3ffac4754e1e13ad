"""Isolation: a reader that hangs, eats memory or crashes costs its own item only.

The hostile readers are test-only extractors registered for made-up formats; workers are
forked from the test process, so they see the registration."""
from __future__ import annotations

import os
import signal
import time

import pytest

from dataward.classifiers import sniff
from dataward.classifiers.extractors import EXTRACTORS

from .conftest import LINE, make_settings, run


def _hang(data: bytes):
    while True:  # a parser stuck in a loop
        time.sleep(0.01)


def _hog(data: bytes):
    chunks = []
    while True:  # a parser inflating a structure without end
        chunks.append(bytearray(16 * 1024 * 1024))


def _crash(data: bytes):
    os.kill(os.getpid(), signal.SIGSEGV)  # a C extension dereferencing garbage


@pytest.fixture
def hostile_formats(monkeypatch):
    for ext, fn in ((".hang", _hang), (".hog", _hog), (".crash", _crash)):
        monkeypatch.setitem(sniff.EXTENSIONS, ext, ext[1:])
        monkeypatch.setitem(EXTRACTORS, ext[1:], fn)


def test_hang_memory_and_crash_each_cost_one_item(dw_home, tmp_path, hostile_formats):
    settings = make_settings(tmp_path, "workers: 2, item_timeout_s: 3, item_memory_mb: 200")
    share = tmp_path / "share"
    share.mkdir()
    for name in ("a.hang", "b.hog", "c.crash", "d.hang"):
        (share / name).write_bytes(b"\x00\x01binary\x02")
    for i in range(6):
        (share / f"note{i}.txt").write_text(LINE + "\n")

    scanned = run(settings, share)

    items = scanned.items
    assert scanned.result.items == 10
    for name in ("a.hang", "d.hang"):
        assert items[name].status == "error"
        assert "3 s time limit" in items[name].error
    assert items["b.hog"].status == "error" and "memory" in items["b.hog"].error
    assert items["c.crash"].status == "error" and "SIGSEGV" in items["c.crash"].error
    for i in range(6):  # every other item was read by a healthy (fresh) worker
        assert items[f"note{i}.txt"].status == "ok"
        assert "UK_UPN" in scanned.found(f"note{i}.txt")
    assert scanned.result.status == "partial"
    assert scanned.result.by_status == {"ok": 6, "error": 4}


def test_workers_option_and_one_worker(dw_home, tmp_path, cli, hostile_formats):
    share = tmp_path / "share"
    share.mkdir()
    (share / "x.hang").write_bytes(b"\x00\x01")
    (share / "y.txt").write_text(LINE + "\n")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("scan: {item_timeout_s: 2}\n")
    res = cli("--config", cfg, "scan", share, "--workers", "1", "--json")
    assert res.exit_code == 3  # finished, but one item could not be read
    assert '"error": 1' in res.stdout and '"ok": 1' in res.stdout


def test_workers_default_to_one_per_core(dw_home, tmp_path):
    from dataward.pipelines.scan import make_classifier
    from dataward.pipelines.scan_item import ItemContext
    from dataward.pipelines.workers import ItemPool, default_workers
    from dataward.connectors.roster import Roster
    settings = make_settings(tmp_path)
    ctx = ItemContext(settings, make_classifier(settings, Roster()), "t")
    assert ItemPool(ctx).workers == default_workers() == len(os.sched_getaffinity(0))
    settings.scan.workers = 3
    assert ItemPool(ctx).workers == 3
