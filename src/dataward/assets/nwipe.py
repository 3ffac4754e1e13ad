"""Parse an nwipe log (nwipe 0.3x, as written with ``-l FILE``) into wipe results.

The log is read as bytes: nwipe prints whatever the drive reports as its serial, which
may be garbage bytes that are not valid UTF-8. Such a serial is kept as hex and marked
unreadable; ``XXXX...`` (nwipe -q) is marked anonymised.

A drive passes only if its Drive Status says ``Erased``, its error counts are all zero,
and the log has no fatal line for it. Anything else (``-FAILED-``, ``UABORTED``,
``IABORTED``, missing summary) fails.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SerialState = Literal["ok", "anonymised", "unreadable", "missing"]

_TS = re.compile(rb"^\[(\d{4})/(\d\d)/(\d\d) (\d\d:\d\d:\d\d)\]")
_OPTION = re.compile(rb"notice:\s+(banner|method|prng|rounds|verify)\s+=\s+(.*?)\s*$")
_FOUND = re.compile(rb"notice: Found (\S+), ([^,]*), ([^,]*), +([^,]*?), S/N=(.*?)\s*$")
_HAS_SERIAL = re.compile(rb"notice: (\S+) has serial number (.*?)\s*$")
_PASS = re.compile(rb"Starting pass \d+/(\d+), round \d+/\d+, on (\S+)")
_BLANK = re.compile(rb"Blanking device (\S+)")
_FATAL = re.compile(rb"fatal: .*?device = ([^\s,]+)")
_ERROR_LINE = re.compile(rb"\]\s+(error|fatal):")
_TABLE_ROW = re.compile(rb"^!?\s*([^|]+?)\s*\|(.*)$")


@dataclass(frozen=True)
class DriveWipe:
    """One drive's result in an nwipe log."""

    device: str
    model: str
    serial: str  # printable serial, or "" when anonymised/unreadable/missing
    serial_state: SerialState
    serial_hex: str  # the raw bytes nwipe printed, as hex (for unreadable serials)
    status: str  # Erased, -FAILED-, UABORTED, ...
    pass_errors: int | None
    verify_errors: int | None
    sync_errors: int | None
    passes: int
    blanked: bool
    fatal: bool
    passed: bool


@dataclass(frozen=True)
class NwipeLog:
    tool: str  # e.g. "nwipe 0.33"
    method: str  # e.g. "DoD Short"
    verify: str  # e.g. "last pass", "all passes", "off"
    rounds: int
    prng: str
    started: str  # ISO date-time of the first line
    finished: str
    outcome: str  # completed | errors | aborted | unknown
    drives: list[DriveWipe] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the log's own error lines

    @property
    def passed(self) -> bool:
        return bool(self.drives) and self.outcome == "completed" and all(
            d.passed for d in self.drives)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["passed"] = self.passed
        return d


def looks_like_nwipe(data: bytes) -> bool:
    return b"Drive Status" in data and (b"banner   = nwipe" in data or b"Nwipe" in data)


def _text(b: bytes) -> str:
    return b.decode("utf-8", errors="replace").strip()


def _serial(raw: bytes) -> tuple[str, SerialState, str]:
    raw = raw.strip()
    if not raw:
        return "", "missing", ""
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "", "unreadable", raw.hex()
    if not s.isprintable() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in s):
        return "", "unreadable", raw.hex()
    if set(s) == {"X"}:
        return "", "anonymised", raw.hex()
    return s, "ok", raw.hex()


def _table(lines: list[bytes], title: bytes) -> list[list[bytes]]:
    """Rows of the summary table under the banner line holding ``title``."""
    rows: list[list[bytes]] = []
    inside = False
    for line in lines:
        if line.startswith(b"*"):  # a banner line opens or closes a table
            if inside:
                break
            inside = title in line
            continue
        if not inside or line.startswith(b"-") or b"Device |" in line:
            continue
        m = _TABLE_ROW.match(line)
        if m:
            rows.append([m.group(1)] + [c.strip() for c in m.group(2).split(b"|")])
    return rows


def _int(b: bytes) -> int | None:
    try:
        return int(b.strip())
    except ValueError:
        return None


def _iso(m: re.Match[bytes]) -> str:
    y, mo, d, t = (x.decode() for x in m.groups())
    return f"{y}-{mo}-{d}T{t}"


def parse_nwipe_log(data: bytes) -> NwipeLog:
    """Parse the bytes of an nwipe log. Raises ValueError if it is not one."""
    if not looks_like_nwipe(data):
        raise ValueError("not an nwipe log (no 'Drive Status' summary)")
    lines = data.splitlines()
    opts: dict[bytes, bytes] = {}
    found: dict[str, tuple[str, bytes]] = {}  # device -> (model, raw serial)
    passes: dict[str, int] = {}
    blanked: set[str] = set()
    fatal: set[str] = set()
    errors: list[str] = []
    stamps: list[str] = []
    for line in lines:
        ts = _TS.match(line)
        if ts:
            stamps.append(_iso(ts))
        if m := _OPTION.search(line):
            opts[m.group(1)] = m.group(2)
        elif m := _FOUND.search(line):
            found[_text(m.group(1))] = (_text(m.group(3)), m.group(5))
        elif m := _HAS_SERIAL.search(line):
            dev = _text(m.group(1))
            model = found.get(dev, ("", b""))[0]
            found[dev] = (model, m.group(2))
        elif m := _PASS.search(line):
            passes[_text(m.group(2))] = int(m.group(1))
        elif m := _BLANK.search(line):
            blanked.add(_text(m.group(1)))
        if m := _FATAL.search(line):
            fatal.add(_text(m.group(1)))
        if _ERROR_LINE.search(line):
            errors.append(_text(line.split(b":", 3)[-1]) if b"] " in line else _text(line))
    err_rows = {_text(r[0]): r for r in _table(lines, b"Error Summary")}
    drives: list[DriveWipe] = []
    for row in _table(lines, b"Drive Status"):
        short = _text(row[0])
        status = _text(row[1]) if len(row) > 1 else ""
        model_serial = row[4] if len(row) > 4 else b""
        dev = next((d for d in found if d.rsplit("/", 1)[-1] == short), short)
        model, raw_serial = found.get(dev, ("", b""))
        if not raw_serial and b"/" in model_serial:
            model, raw_serial = _text(model_serial.split(b"/", 1)[0]), model_serial.split(b"/", 1)[1]
        serial, state, hexed = _serial(raw_serial)
        er = err_rows.get(short, [])
        pe, ve, se = (_int(er[i]) if len(er) > i else None for i in (1, 2, 3))
        is_fatal = dev in fatal
        ok = (status == "Erased" and pe == 0 and ve == 0 and se == 0 and not is_fatal)
        drives.append(DriveWipe(
            device=dev, model=model, serial=serial, serial_state=state, serial_hex=hexed,
            status=status, pass_errors=pe, verify_errors=ve, sync_errors=se,
            passes=passes.get(dev, 0), blanked=dev in blanked, fatal=is_fatal, passed=ok))
    tail = b"\n".join(lines[-5:])
    if b"successfully completed" in tail:
        outcome = "completed"
    elif b"aborted" in tail:
        outcome = "aborted"
    elif b"exited with errors" in tail:
        outcome = "errors"
    else:
        outcome = "unknown"
    verify = _text(opts.get(b"verify", b""))
    vm = re.search(r"\((.*)\)", verify)
    return NwipeLog(
        tool=_text(opts.get(b"banner", b"nwipe")), method=_text(opts.get(b"method", b"")),
        verify=vm.group(1) if vm else verify, rounds=_int(opts.get(b"rounds", b"")) or 0,
        prng=_text(opts.get(b"prng", b"")), started=stamps[0] if stamps else "",
        finished=stamps[-1] if stamps else "", outcome=outcome, drives=drives,
        errors=errors)
