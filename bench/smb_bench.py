"""SMB and accounts benchmarks against a real Samba AD domain controller on loopback
(started here, as the tests start it; needs root and the Debian samba packages).

    python bench/smb_bench.py [--files 10000] [--accounts 2000] [--repeat 3]

1. A share of --files small text files (100 folders): a full scan of it over SMB
   (smb://, permissions read for every item, group names and nested memberships read from
   the directory) against a full scan of the same folder read locally, then the unchanged
   SMB rescan (one listing and one permissions query per folder, nothing read); --repeat
   interleaved rounds, medians and the ratio printed with the load average.
2. A directory of --accounts user accounts (a third of them leavers in the MIS export):
   `accounts audit` over LDAP, --repeat times, the median (target: under 10 s).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from network.samba_dc import (  # noqa: E402 - found through sys.path above
    ADMIN_PASS,
    BASE_DN,
    SVC_PASS,
    SVC_USER,
    add_user,
    start_dc,
)

TEXT = ("Class list, Year {y}. Reading group {g}. Trip on {d}/0{m}/2025. "
        "Contact the office on 01632 960{n:03d}.\n")


def _home(tmp: Path, name: str, sources: list[dict], extra: dict | None = None) -> Path:
    import yaml
    home = tmp / name
    home.mkdir()
    secrets = home / "secrets"
    secrets.mkdir(mode=0o700)
    for f, v in (("smb.pass", SVC_PASS), ("ldap.pass", ADMIN_PASS)):
        (secrets / f).write_text(v)
        (secrets / f).chmod(0o600)
    cfg = {"sources": sources, **(extra or {})}
    (home / "dataward.yaml").write_text(yaml.safe_dump(cfg))
    return home


def _settings(home: Path):
    from dataward.settings import load_settings
    os.environ["DATAWARD_HOME"] = str(home)
    return load_settings(home / "dataward.yaml")


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def bench_scan(dc, tmp: Path, files: int, repeat: int) -> None:
    """Interleaved rounds (local full, SMB full, SMB unchanged rescan), medians: the
    machine's other work falls on both sides alike."""
    from dataward.pipelines.scan import run_scan
    rng = random.Random(7)
    per = max(1, files // 100)
    for i in range(files):
        p = dc.share / f"Class {i // per:03d}" / f"list {i:05d}.txt"
        p.parent.mkdir(exist_ok=True)
        p.write_text(TEXT.format(y=rng.randint(1, 6), g=rng.randint(1, 9), d=rng.randint(10, 28),
                                 m=rng.randint(1, 9), n=rng.randint(0, 999)))
    # As a school runs it: group names and nested memberships read from the directory.
    smb = {"smb": {"username": f"OAKFIELD\\{SVC_USER}", "password_file": "secrets/smb.pass",
                   "directory": "ad"},
           "accounts": {"directories": [{"name": "ad", "kind": "ldap", "url": f"ldap://{dc.addr}",
                                         "bind_user": "Administrator@oakfield.test",
                                         "password_file": "secrets/ldap.pass"}]}}
    local_home = _home(tmp, "local", [{"name": "share", "path": str(dc.share)}])
    smb_home = _home(tmp, "smb", [{"name": "share", "path": dc.url()}], smb)
    times: dict[str, list[float]] = {"local": [], "smb": [], "rescan": []}
    for r in range(repeat):
        t = time.perf_counter()
        local = run_scan(_settings(local_home), full=True)
        times["local"].append(time.perf_counter() - t)
        t = time.perf_counter()
        over = run_scan(_settings(smb_home), full=True)
        times["smb"].append(time.perf_counter() - t)
        t = time.perf_counter()
        again = run_scan(_settings(smb_home))
        times["rescan"].append(time.perf_counter() - t)
        if over.unavailable or again.unavailable:
            print(f"round {r + 1}: the share was unavailable: {over.unavailable or again.unavailable}")
        print(f"round {r + 1}: local {times['local'][-1]:.1f} s ({local.items} items), SMB "
              f"{times['smb'][-1]:.1f} s ({over.items} items, {over.errors} errors), rescan "
              f"{times['rescan'][-1]:.1f} s ({again.reused} reused, {again.read} read); {_load()}",
              flush=True)
    loc, sm, re_ = (_median(times[k]) for k in ("local", "smb", "rescan"))
    print(f"scan of {files} small files, medians of {repeat}: local {loc:.1f} s, SMB {sm:.1f} s: "
          f"SMB/local = {sm / loc:.2f}; unchanged SMB rescan {re_:.1f} s")


def bench_accounts(dc, tmp: Path, n: int, repeat: int) -> None:
    from dataward.accounts.service import run_audit
    from dataward.ledger import Ledger
    conn = dc.ldap()
    today = date.today()
    rows = ["Staff Code,Forename,Surname,Employment End Date"]
    t = time.perf_counter()
    for i in range(n):
        given, surname = f"Given{i:04d}", f"Surname{i:04d}"
        left = today - timedelta(days=40 + i % 300) if i % 3 == 0 else None
        add_user(conn, f"user{i:04d}", given, surname, f"Pw-{i:04d}-Bench!", employee_id=f"S{i:04d}")
        rows.append(f"S{i:04d},{given},{surname},{left:%d/%m/%Y}" if left else f"S{i:04d},{given},{surname},")
    conn.unbind()
    made_s = time.perf_counter() - t
    mis = tmp / "staff.csv"
    mis.write_text("\n".join(rows) + "\n")
    extra = {"accounts": {"staff_csv": str(mis), "directories": [{
        "name": "ad", "kind": "ldap", "url": f"ldap://{dc.addr}", "base_dn": BASE_DN,
        "bind_user": "Administrator@oakfield.test", "password_file": "secrets/ldap.pass"}]}}
    home = _home(tmp, "accounts", [], extra)
    s = _settings(home)
    took = []
    with Ledger.for_settings(s) as ledger:
        for _ in range(repeat):
            t = time.perf_counter()
            run = run_audit(s, ledger)
            took.append(time.perf_counter() - t)
    print(f"accounts audit of {run.result.accounts} accounts over LDAP, median of {repeat}: "
          f"{_median(took):.2f} s (runs {', '.join(f'{x:.2f}' for x in took)}; "
          f"{run.result.counts['leaver-enabled']} leavers still enabled; directory filled in "
          f"{made_s:.0f} s); {_load()}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: a Samba domain controller needs it")
    tmp = Path(tempfile.mkdtemp(prefix="dw-smb-bench-"))
    t = time.perf_counter()
    dc = start_dc()
    print(f"domain controller on {dc.addr} up in {time.perf_counter() - t:.1f} s")
    try:
        conn = dc.ldap()
        add_user(conn, SVC_USER, "", "", SVC_PASS)
        conn.unbind()
        print(f"start: {_load()}", flush=True)
        bench_scan(dc, tmp, args.files, args.repeat)
        bench_accounts(dc, tmp, args.accounts, args.repeat)
    finally:
        dc.stop()


if __name__ == "__main__":
    main()
