"""The scan's worker processes (issue 13): time of a full scan and peak memory of the whole
process tree, with the workers forked by the worker host (the scanning process runs a
second Python thread, as under a Prefect flow) and forked from the scanning process (no
other thread, as `dataward scan`), beside a peer build of dataward (another source tree)
in the same run.

    python bench/pool_bench.py --peer-src DIR [--this-src DIR] [--mb 5] [--runs 3] [--workers 2]
                               [--only "threaded"]

The corpus is scan_bench's school-like text written as files, with its pupils as the
roster. Each run is a fresh interpreter running ``run_scan`` (full), with or without a
thread started first. Every variant runs twice a round: once timed (wall time of
``run_scan``, and CPU time of the whole process tree from ``wait4``), and once while every
50 ms the bench sums the proportional set size (PSS, /proc/PID/smaps_rollup) of the
scanning process and all its descendants (pages shared between processes count once in
the sum, so it is the memory the scan really costs). Reading smaps slows the processes it
reads, so the timed run is not sampled. Variants alternate within each round; medians are
printed with the load average at the start and the end.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_bench import build_corpus, write_share

CODE = """
import threading, time, sys
from pathlib import Path
if sys.argv[2] == "threaded":   # as Prefect's task runner and API client are
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
from dataward.settings import load_settings
from dataward.pipelines.scan import run_scan
s = load_settings(Path(sys.argv[1]))
t = time.perf_counter()
r = run_scan(s, full=True)
print(time.perf_counter() - t, r.items, r.errors, r.findings)
"""


def _descendants(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                stack.extend(int(x) for x in (task / "children").read_text().split())
        except OSError:
            pass
    return out


def _kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_once(src: Path, home: Path, threaded: bool, sample: bool) -> dict[str, float]:
    env = {**os.environ, "DATAWARD_HOME": str(home), "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", CODE, str(home / "c.yaml"),
                             "threaded" if threaded else "single"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_pss = peak_pss_scanner = 0
    while True:
        # wait4: the CPU time of the scanning process and every descendant it (or a worker
        # host under it) reaped, which the load of a shared machine moves much less.
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if sample:
            pids = _descendants(proc.pid)
            peak_pss = max(peak_pss, sum(_kb(p, "Pss") for p in pids))
            peak_pss_scanner = max(peak_pss_scanner, _kb(proc.pid, "Pss"))
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"scan failed ({src}):\n{err[-3000:]}")
    secs, items, errors, findings = out.split()[-4:]
    return {"seconds": float(secs), "items": int(items), "errors": int(errors),
            "findings": int(findings), "tree_pss_mb": peak_pss / 1024,
            "scanner_pss_mb": peak_pss_scanner / 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer-src", type=Path, required=True,
                    help="the src/ folder of the build to compare with")
    ap.add_argument("--this-src", type=Path, default=Path(__file__).resolve().parents[1] / "src",
                    help="the src/ folder of this build (default: this tree's)")
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="", help="run only the variants whose name holds this")
    args = ap.parse_args()
    docs, pupils = build_corpus(args.mb)
    tmp = Path(tempfile.mkdtemp(prefix="dw-pool-bench-"))
    try:
        share = write_share(tmp, docs)
        roster = tmp / "pupils.csv"
        roster.write_text("Forename,Surname\n" + "".join(
            f"{p.forename},{p.surname}\n" for p in pupils))
        mb = sum(len(t.encode()) for t, _ in docs) / 1e6
        variants = {"this, threaded (worker host)": (args.this_src, True),
                    "peer, threaded (forks from it)": (args.peer_src, True),
                    "this, one thread (forks from it)": (args.this_src, False),
                    "peer, one thread (forks from it)": (args.peer_src, False)}
        variants = {k: v for k, v in variants.items() if args.only in k}
        figures: dict[str, list[dict[str, float]]] = {k: [] for k in variants}
        load_start = os.getloadavg()
        for run in range(args.runs):
            for name, (src, threaded) in variants.items():
                row: dict[str, float] = {}
                for sample in (False, True):   # timed without sampling, sampled apart
                    home = tmp / f"home-{len(figures[name])}-{run}-{name[:4]}-{threaded}-{sample}"
                    home.mkdir()
                    (home / "c.yaml").write_text(
                        f"sources:\n  - {{name: s, path: {share}}}\n"
                        f"rosters:\n  - {{path: {roster}, kind: pupils}}\n"
                        f"scan: {{workers: {args.workers}}}\n")
                    got = run_once(src, home, threaded, sample)
                    row.update(got if sample else {"seconds": got["seconds"],
                                                   "cpu_s": got["cpu_s"]})
                figures[name].append(row)
        print(f"load average at start {load_start}, at end {os.getloadavg()}")
        print(f"full scan of {len(docs)} files ({mb:.1f} MB), roster of {len(pupils)}, "
              f"{args.workers} workers, medians of {args.runs} interleaved runs:")
        for name, rows in figures.items():
            secs = statistics.median(r["seconds"] for r in rows)
            cpu = statistics.median(r["cpu_s"] for r in rows)
            print(f"  {name:34} {secs:6.2f} s ({mb / secs:5.2f} MB/s), CPU {cpu:5.2f} s  "
                  f"tree peak PSS {statistics.median(r['tree_pss_mb'] for r in rows):5.0f} MB  "
                  f"scanning process {statistics.median(r['scanner_pss_mb'] for r in rows):5.0f} MB  "
                  f"items {rows[0]['items']} errors {rows[0]['errors']} "
                  f"findings {rows[0]['findings']}")
            print(f"  {'':34} runs: " + ", ".join(f"{r['seconds']:.2f} s" for r in rows)
                  + "; CPU " + ", ".join(f"{r['cpu_s']:.2f}" for r in rows) + " s"
                  + "; tree PSS " + ", ".join(f"{r['tree_pss_mb']:.0f}" for r in rows) + " MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
