"""The nwipe log parser against real nwipe 0.34 logs (invalid UTF-8 serials included)."""
from __future__ import annotations

import pytest

from dataward.assets.nwipe import parse_nwipe_log


@pytest.mark.parametrize("log, status, passed, outcome, serial_state, method, passes", [
    ("ZERO_OK", "Erased", True, "completed", "unreadable", "Fill With Zeros", 1),
    ("DOD_OK", "Erased", True, "completed", "anonymised", "DoD Short", 3),
    ("VERIFY_OK", "Erased", True, "completed", "unreadable", "Verify Zeros (0x00)", 0),
    ("VERIFY_FAILED", "-FAILED-", False, "errors", "unreadable", "Verify Zeros (0x00)", 0),
    ("ABORTED", "UABORTED", False, "aborted", "unreadable", "Fill With Zeros", 0),
])
def test_real_logs(log, status, passed, outcome, serial_state, method, passes, logs):
    data = getattr(logs, log).read_bytes()
    r = parse_nwipe_log(data)
    [d] = r.drives
    assert (d.status, d.passed, r.passed, r.outcome) == (status, passed, passed, outcome)
    assert d.serial_state == serial_state
    assert r.method == method and d.passes == passes
    assert r.tool == "nwipe 0.33" and r.rounds == 1 and r.prng == "Isaac64"
    if serial_state == "unreadable":
        # the raw bytes survive as hex; the text serial is not invented
        assert d.serial == "" and bytes.fromhex(d.serial_hex) in data


def test_failed_verification_counts_errors(logs):
    r = parse_nwipe_log(logs.VERIFY_FAILED.read_bytes())
    [d] = r.drives
    assert (d.pass_errors, d.verify_errors, d.sync_errors) == (1, 32768, 0)
    assert d.fatal and d.device == "/dev/loop0"
    assert any("verification errors" in e for e in r.errors)


def test_zero_wipe_fields(logs):
    r = parse_nwipe_log(logs.ZERO_OK.read_bytes())
    [d] = r.drives
    assert r.verify == "last pass" and d.blanked
    assert r.started == "2026-11-23T15:49:19" and r.finished == "2026-11-23T15:49:21"
    assert d.model == "Loopback device"


def test_a_readable_serial_is_kept_and_a_truncated_log_fails(logs):
    data = logs.ZERO_OK.read_bytes()
    raw = parse_nwipe_log(data).drives[0].serial_hex
    clean = data.replace(bytes.fromhex(raw), b"WD-WX12A3456789")
    d = parse_nwipe_log(clean).drives[0]
    assert (d.serial, d.serial_state) == ("WD-WX12A3456789", "ok")
    # a log cut off before nwipe's final line cannot prove the wipe finished
    cut = data[: data.rindex(b"[2026/11/23 15:49:21]    info")]
    assert not parse_nwipe_log(cut).passed


def test_not_an_nwipe_log():
    with pytest.raises(ValueError):
        parse_nwipe_log(b"%PDF-1.7 vendor erasure certificate")


def test_one_failed_drive_in_a_multi_drive_log_fails_the_log(logs):
    data = logs.ZERO_OK.read_bytes()
    lines = data.split(b"\n")
    err_row = next(i for i, line in enumerate(lines) if line.startswith(b"     loop0 |           0"))
    status_row = next(i for i, line in enumerate(lines) if b"loop0 | Erased" in line)
    lines.insert(status_row + 1, b"!    loop1 |-FAILED-|   0 B/s | 00:00:00 | Disk/WD-1234")
    lines.insert(err_row + 1, b"!    loop1 |           0 |                    7 |       0")
    r = parse_nwipe_log(b"\n".join(lines))
    assert [(d.device, d.passed) for d in r.drives] == [("/dev/loop0", True), ("loop1", False)]
    loop1 = r.drives[1]
    assert (loop1.serial, loop1.model, loop1.verify_errors) == ("WD-1234", "Disk", 7)
    assert not r.passed
