"""How long a September intake takes to absorb: 30 pupils added to the roster of a
100,000-file share, found in the files that already named them though none of them
changed. Printed beside a full re-read of the same share with the same roster, in the
same run.

    python bench/roster_bench.py [--files 100000] [--new 30] [--runs 1]

The share: --files small school documents (scan_bench's prose), one in ten naming a pupil
on the roster, and one in a hundred naming one of the --new pupils who are not on the
roster yet. Steps, each a separate scanning process as the nightly job would be:
1. a first full scan with the old roster (not timed in the figures);
2. the roster gains the --new pupils; an incremental scan absorbs them (timed): the keyed
   name index picks the files that may hold a new name and only those are read again;
3. a full re-read with the new roster (timed), the peer;
and the two must report the same findings for the new pupils. With --runs above 1, the
roster goes back to the old one between runs (untimed) and medians are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from scan_bench import PROSE

from dataward.synthetic import make_pupils

SCAN = """
import json, sys, time
from pathlib import Path
from dataward.settings import load_settings
from dataward.pipelines.scan import run_scan
import pyarrow.parquet as pq, pyarrow.compute as pc
s = load_settings(Path(sys.argv[1]))
t = time.perf_counter()
r = run_scan(s, full=sys.argv[2] == "full")
secs = time.perf_counter() - t
f = pq.read_table(r.out_dir / "findings.parquet", columns=["fingerprint", "entity_type"])
people = f.filter(pc.equal(f["entity_type"], "PERSON"))["fingerprint"].to_pylist()
print(json.dumps({"seconds": secs, "items": r.items, "read": r.read, "rechecked": r.rechecked,
                  "reused": r.reused, "reasons": r.reasons, "people": people}))
"""


def write_roster(path: Path, pupils) -> None:
    path.write_text("Forename,Surname\n" + "".join(f"{p.forename},{p.surname}\n" for p in pupils))


def build_share(share: Path, files: int, old, new, seed: int = 5) -> int:
    rng = random.Random(seed)
    planted = 0
    for i in range(files):
        d = share / f"class{i % 100:02d}" / f"week{(i // 100) % 10}"
        if i % 1000 == 0 or not d.exists():
            d.mkdir(parents=True, exist_ok=True)
        lines = [rng.choice(PROSE).format(fn="Sam") for _ in range(rng.randint(2, 6))]
        if i % 10 == 0:
            lines.insert(1, f"Pupil: {rng.choice(old).name}.")
        if i % 100 == 7:
            lines.insert(0, f"Admissions note for {rng.choice(new).name}, starting in September.")
            planted += 1
        (d / f"note{i}.txt").write_text("\n".join(lines) + "\n")
    return planted


def scan(home: Path, full: bool) -> dict:
    env = {**os.environ, "DATAWARD_HOME": str(home),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.run([sys.executable, "-c", SCAN, str(home / "c.yaml"),
                           "full" if full else "incremental"],
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"scan process failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=30)
    ap.add_argument("--pupils", type=int, default=400, help="pupils already on the roster")
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    pupils = make_pupils(args.pupils + args.new, seed=11)
    old, new = pupils[:args.pupils], pupils[args.pupils:]
    new_names = {p.name for p in new}
    old = [p for p in old if p.name not in new_names]
    tmp = Path(tempfile.mkdtemp(prefix="dw-bench-roster-"))
    try:
        share, home = tmp / "share", tmp / "home"
        home.mkdir()
        planted = build_share(share, args.files, old, new)
        roster = tmp / "pupils.csv"
        (home / "c.yaml").write_text(f"sources:\n  - {{name: s, path: {share}}}\n"
                                     f"rosters:\n  - {{path: {roster}}}\n")
        write_roster(roster, old)
        first = scan(home, full=True)
        absorb, full = [], []
        for run in range(args.runs):
            if run:
                write_roster(roster, old)
                scan(home, full=False)  # back to the old roster (untimed)
            write_roster(roster, old + new)
            a = scan(home, full=False)
            f = scan(home, full=True)
            assert sorted(a["people"]) == sorted(f["people"]), "absorbed and re-read differ"
            absorb.append(a)
            full.append(f)
        gained = len(absorb[0]["people"]) - len(first["people"])
        print(f"roster change on a {first['items']:,}-file share: {len(new)} new pupils, "
              f"named in {planted:,} files that did not change "
              f"(first full scan {first['seconds']:.1f} s); median of {args.runs} run(s)")
        print(f"  absorb (name index, incremental) {statistics.median(x['seconds'] for x in absorb):7.1f} s  "
              f"{absorb[0]['rechecked']:,} files re-checked, {absorb[0]['reused']:,} kept, "
              f"{gained:,} new name findings")
        print(f"  full re-read (--full)            {statistics.median(x['seconds'] for x in full):7.1f} s  "
              f"{full[0]['read']:,} files read, same findings")
        for reason in absorb[0]["reasons"]:
            print(f"  dataward scans: {reason}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
