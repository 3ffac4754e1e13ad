"""Dense MIS exports: one pupil per row (UPN, NHS number, DOB, postcode, phone, e-mail,
names), the files a DPO worries about most. Prints, in one run:

1. classifier on a 10 MB export (--rows, about 100,000 rows): MB/s per core (process CPU
   time, so other work on a shared machine counts less), wall MB/s, findings per second,
   and whether every planted identifier was found (fingerprints of the planted values,
   computed here with the standard library's HMAC, against the findings' fingerprints).
2. the same bytes with no personal data (each identifier cell replaced by letters of the
   same length) and school prose of the same size (bench/scan_bench.py's corpus): the
   dense/sparse throughput ratio.
3. the peer on a 1 MB sample of the same export: Presidio's AnalyzerEngine as its users
   would configure it for UK identifiers (predefined recognizers plus the UK ones,
   no-op NLP engine since no spaCy model is installed here, ``entities=[...]``, the
   export's text whole).
4. a full ``run_scan`` (real worker process) of a 100 MB export (--big-rows, just under
   the default ``scan.max_file_mb``): status,
   wall time, findings, and peak memory of the worker above what it shared with the
   scanning process, against ``scan.item_memory_mb``.
5. ``package create`` of 40 dense 1 MB files, with the screening scan and without, and
   again after a scan of the folder (the screening then reuses the scan's counts); with
   --peer-src, the same for another tree (main's sources), rounds interleaved.

Check characters come from tests/dense_export.py, written from the published rules
independently of dataward's checksum code. Medians of --runs runs.

    python bench/dense_bench.py [--rows 100000] [--big-rows 970000] [--runs 3] [--skip big]
        [--peer-src ../main/src]
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.dense_export import ENTITIES, dense_csv, roster_csv  # noqa: E402 - found through sys.path above

KEY = b"dense-bench-key-of-32-bytes-long"
MB = 1e6


def normalised(entity: str, value: str) -> str:
    import phonenumbers
    from datetime import datetime
    if entity in ("UK_UPN", "UK_NHS"):
        return "".join(ch for ch in value if ch.isalnum()).upper()
    if entity == "DATE_OF_BIRTH":
        return datetime.strptime(value, "%d/%m/%Y").date().isoformat()
    if entity == "PHONE_NUMBER":
        return phonenumbers.format_number(phonenumbers.parse(value, "GB"),
                                          phonenumbers.PhoneNumberFormat.E164)
    if entity == "EMAIL_ADDRESS":
        return value.lower()
    if entity == "UK_POSTCODE":
        return value.upper()
    return " ".join(value.lower().split())


def expected_fingerprints(planted: dict[str, list[str]]) -> Counter:
    return Counter((e, hmac.new(KEY, f"{e}:{normalised(e, v)}".encode(), hashlib.sha256)
                    .hexdigest()[:32]) for e, values in planted.items() for v in values)


def blank(text: str) -> str:
    """The export with every identifier cell replaced by letters of the same length."""
    out = []
    for i, line in enumerate(text.splitlines()):
        cells = line.split(",")
        if i:
            for c in (0, 3, 6, 7, 8, 9):
                cells[c] = "x" * len(cells[c])
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def state_home(home: Path) -> Path:
    """A state folder with its fingerprint key (the scan's name index is keyed from it)."""
    from dataward.home import fingerprint_key
    from dataward.settings import load_settings
    os.environ["DATAWARD_HOME"] = str(home)
    fingerprint_key(load_settings(None), create=True)
    return home


def context(names, tmp: Path):
    from dataward.classifiers.engine import Classifier
    from dataward.connectors.roster import load_roster
    from dataward.pipelines.scan_item import ItemContext
    from dataward.settings import load_settings
    roster = tmp / "roster.csv"
    roster.write_text(roster_csv(names), encoding="utf-8")
    return ItemContext(load_settings(None), Classifier(KEY, load_roster(roster, "pupils")), "bench")


def classify_once(ctx, data: bytes, name: str):
    """(cpu s, wall s, findings table) of one item classified as the scan does."""
    from dataward.pipelines.scan_item import ItemFindings, classify_bytes
    found = ItemFindings("file:///bench/" + name, ctx)
    row = {"format": "", "status": "ok", "error": "", "taken": ""}
    c0, w0 = time.process_time(), time.perf_counter()
    classify_bytes(data, name, ctx, row, found)
    table, _ = found.rows.result()
    return time.process_time() - c0, time.perf_counter() - w0, table, row


def bench_classifier(args, tmp: Path):
    export = dense_csv(args.rows)
    data = export.text.encode()
    ctx = context(export.names, tmp)
    classify_once(ctx, data[:200_000], "warm.csv")
    sparse = blank(export.text).encode()
    from scan_bench import build_corpus
    prose = "\n\n".join(t for t, _ in build_corpus(len(data) / MB)[0]).encode()[:len(data)]
    dense_runs, sparse_runs, prose_runs = [], [], []
    table = row = None
    for _ in range(args.runs):  # interleaved, so a busy machine slows all alike
        cpu, wall, table, row = classify_once(ctx, data, "export.csv")
        dense_runs.append((cpu, wall))
        sparse_runs.append(classify_once(ctx, sparse, "blank.csv")[:2])
        prose_runs.append(classify_once(ctx, prose, "prose.txt")[:2])
    got = Counter(zip(table["entity_type"].to_pylist(), table["fingerprint"].to_pylist()))
    want = expected_fingerprints(export.planted)
    missed = sum((want - got).values())
    extra = sum((got - want).values())
    cpu = statistics.median(c for c, _ in dense_runs)
    wall = statistics.median(w for _, w in dense_runs)
    mb = len(data) / MB
    s_cpu = statistics.median(c for c, _ in sparse_runs)
    p_cpu = statistics.median(c for c, _ in prose_runs)
    print(f"1. dense export: {args.rows:,} rows, {mb:.1f} MB, {sum(want.values()):,} planted "
          f"({len(ENTITIES)} per row); status {row['status']}")
    print(f"   dataward  {mb / cpu:6.2f} MB/s per core (CPU), {mb / wall:6.2f} MB/s wall, "
          f"{table.num_rows / cpu:,.0f} findings/s per core; missed {missed}, unexpected {extra}")
    print(f"2. same bytes, no identifiers: {mb / s_cpu:6.2f} MB/s per core -> dense/sparse "
          f"{s_cpu / cpu:.2f}")
    print(f"   school prose, same size:   {mb / p_cpu:6.2f} MB/s per core -> dense/prose "
          f"{p_cpu / cpu:.2f}")
    return export


def naive_engine():
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (NhsRecognizer, UkNinoRecognizer,
                                                          UkPostcodeRecognizer)
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    for r in (NhsRecognizer(), UkNinoRecognizer(), UkPostcodeRecognizer()):
        registry.add_recognizer(r)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


PEER_ENTITIES = ["UK_NHS", "UK_POSTCODE", "PHONE_NUMBER", "EMAIL_ADDRESS", "DATE_TIME"]


def bench_peer(args, tmp: Path):
    export = dense_csv(max(1, args.rows // 10), seed=21)
    text = export.text
    engine = naive_engine()
    engine.analyze(text[:5000], language="en", entities=PEER_ENTITIES)
    ctx = context(export.names, tmp)
    peer_runs, ours = [], []
    results = []
    for _ in range(max(1, args.runs)):
        c0 = time.process_time()
        results = engine.analyze(text, language="en", entities=PEER_ENTITIES)
        peer_runs.append(time.process_time() - c0)
        ours.append(classify_once(ctx, text.encode(), "sample.csv")[0])
    mb = len(text.encode()) / MB
    found = Counter(r.entity_type for r in results)
    rows = len(export.names)
    print(f"3. peer on a {mb:.2f} MB sample ({rows:,} rows): naive Presidio AnalyzerEngine, "
          f"entities={PEER_ENTITIES}")
    print(f"   Presidio  {mb / statistics.median(peer_runs):6.2f} MB/s per core; found per row: "
          + ", ".join(f"{e} {found.get(e, 0) / rows:.2f}" for e in PEER_ENTITIES)
          + " (no UPN recognizer, no roster names)")
    print(f"   dataward  {mb / statistics.median(ours):6.2f} MB/s per core on the same sample "
          f"-> {statistics.median(peer_runs) / statistics.median(ours):.1f}x")


SCAN_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from dataward.settings import load_settings
    from dataward.pipelines.scan import build_roster, make_classifier, run_scan
    import pyarrow.parquet as pq
    import resource

    def status_kb(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])

    settings = load_settings(Path(sys.argv[1]))
    classifier = make_classifier(settings, build_roster(settings))
    baseline = status_kb("VmRSS")
    t = time.perf_counter()
    result = run_scan(settings)
    wall = time.perf_counter() - t
    item = pq.read_table(result.out_dir / "items.parquet").to_pylist()[0]
    print(json.dumps({"status": item["status"], "error": item["error"], "wall": wall,
                      "findings": result.findings, "n_findings": item["n_findings"],
                      "baseline_kb": baseline,
                      # VmHWM, not ru_maxrss: the latter keeps the peak of the process
                      # that started this one (Linux carries it across exec).
                      "parent_kb": status_kb("VmHWM"),
                      "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                      "memory_mb": settings.scan.item_memory_mb}))
""")


def bench_big(args, tmp: Path):
    export = dense_csv(args.big_rows, seed=100)
    share = tmp / "big"
    share.mkdir()
    path = share / "export-big.csv"
    path.write_text(export.text, encoding="utf-8")
    planted = sum(len(v) for v in export.planted.values())
    names = export.names
    del export
    roster = tmp / "big-roster.csv"
    roster.write_text(roster_csv(names), encoding="utf-8")
    home = state_home(tmp / "home-big")
    cfg = home / "dataward.yaml"
    cfg.write_text(json.dumps({"sources": [{"name": "admin", "path": str(share)}],
                               "rosters": [{"path": str(roster), "kind": "pupils"}],
                               "scan": {"workers": 1}}))
    env = dict(os.environ, DATAWARD_HOME=str(home), PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", SCAN_SCRIPT, str(cfg)], env=env,
                         capture_output=True, text=True)
    if out.returncode:
        print("4. 100 MB export: the scan failed\n" + out.stderr[-3000:])
        return
    r = json.loads(out.stdout.strip().splitlines()[-1])
    mb = path.stat().st_size / MB
    worker = (r["worker_kb"] - r["baseline_kb"]) / 1024
    print(f"4. full scan of a {mb:.0f} MB export ({args.big_rows:,} rows, {planted:,} planted): "
          f"status {r['status']} {r['error']}, {r['wall']:.0f} s wall ({mb / r['wall']:.2f} MB/s), "
          f"{r['n_findings']:,} findings")
    print(f"   worker peak {r['worker_kb'] / 1024:.0f} MB RSS, {worker:.0f} MB above what it "
          f"shared at the fork (limit scan.item_memory_mb = {r['memory_mb']}); scanning "
          f"process peak {r['parent_kb'] / 1024:.0f} MB")


# One round of package create, run in a fresh process with a given tree's sources first
# (so this tree and a peer tree, such as main's, are measured in the same run,
# interleaved): warm-up packages first (imports, as in one long-lived process), then one
# package with screening off and one with it on. Prints JSON: [wall, CPU] of each, CPU
# being user + system of the process and the workers it reaped.
PACKAGE_ROUND = """
import json, os, sys, time
from pathlib import Path
from dataward.settings import load_settings
from dataward.transfer import PasswordMethod, create_package
data, out, scan = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "scan"

def settings_for(screen):
    return load_settings(None, sources=[{"name": "pkg", "path": str(data)}],
                         transfer={"allowed_roots": [str(data)], "max_package_mb": 1e6,
                                   "scan_before_packaging": screen})

if scan:  # the nightly scan reads the folder (the screening may then reuse its counts)
    from dataward.pipelines.scan import run_scan
    run_scan(settings_for(True))
    sys.exit(0)

def run(screen):
    settings = settings_for(screen)
    t, c = time.perf_counter(), os.times()
    res = create_package(settings, [data], recipient="Bench LA", method=PasswordMethod(),
                         out_dir=out)
    dt, c2 = time.perf_counter() - t, os.times()
    res.path.unlink()
    return [dt, sum(c2[:4]) - sum(c[:4])]

run(False)
run(True)
print(json.dumps({"off": run(False), "on": run(True)}))
"""


def _package_round(src: Path, home: Path, data: Path, out: Path, scan: bool = False):
    env = {**os.environ, "PYTHONPATH": str(src), "DATAWARD_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", PACKAGE_ROUND, str(data), str(out),
                           "scan" if scan else "package"], env=env, capture_output=True,
                          text=True, check=True)
    return None if scan else json.loads(proc.stdout.strip().splitlines()[-1])


def bench_package(args, tmp: Path):
    data = tmp / "pkg"
    data.mkdir()
    rows = 10_000  # about 1 MB each
    for i in range(40):
        (data / f"class-{i:02d}.csv").write_text(dense_csv(rows, seed=1000 + i).text)
    trees = {"this tree": ROOT / "src"}
    if args.peer_src:
        trees["peer"] = Path(args.peer_src).resolve()
    homes = {}
    for name in trees:
        homes[name] = tmp / f"home-pkg-{len(homes)}"
        state_home(homes[name])
    out = tmp / "pkg-out"
    out.mkdir()
    size = sum(p.stat().st_size for p in data.iterdir()) / MB

    def rounds() -> dict[str, list[dict[str, list[float]]]]:
        got: dict[str, list[dict[str, list[float]]]] = {name: [] for name in trees}
        for _ in range(args.runs):       # interleaved: each tree once per round
            for name, src in trees.items():
                got[name].append(_package_round(src, homes[name], data, out))
        return got

    def med(runs, key, i):
        return statistics.median(r[key][i] for r in runs)

    first = rounds()
    # The nightly scan reads the folder; packaging the same files again then reuses its
    # counts (pipelines/screen_reuse.py) where the tree has that.
    for name, src in trees.items():
        _package_round(src, homes[name], data, out, scan=True)
    known = rounds()
    print(f"5. package create of 40 dense files ({size:.0f} MB), medians of {args.runs} "
          f"rounds (each in a fresh process, trees interleaved), wall / CPU s (self + workers):")
    for name in trees:
        a, b = first[name], known[name]
        print(f"   [{name}] {trees[name]}")
        print(f"   screening off      {med(a, 'off', 0):6.1f} / {med(a, 'off', 1):5.1f}")
        print(f"   screening on       {med(a, 'on', 0):6.1f} / {med(a, 'on', 1):5.1f} -> "
              f"{med(a, 'on', 0) / med(a, 'off', 0):.1f}x wall, "
              f"{med(a, 'on', 1) / med(a, 'off', 1):.1f}x CPU")
        print(f"   after a scan       {med(b, 'on', 0):6.1f} / {med(b, 'on', 1):5.1f} -> "
              f"{med(b, 'on', 0) / med(b, 'off', 0):.1f}x wall, "
              f"{med(b, 'on', 1) / med(b, 'off', 1):.1f}x CPU "
              f"(off in the same rounds {med(b, 'off', 0):.1f} / {med(b, 'off', 1):.1f})")
    print(f"   load average now {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    # 970,000 rows: about 103 MB, just under the default scan.max_file_mb (100 MiB).
    ap.add_argument("--big-rows", type=int, default=970_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip", choices=["classifier", "peer", "big", "package"], action="append",
                    default=[])
    ap.add_argument("--peer-src", help="another tree's src folder (e.g. main's) whose "
                    "package create is measured in the same run, interleaved (package rows)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    load = os.getloadavg()
    print(f"medians of {args.runs} runs; load average at start {load[0]:.1f} on "
          f"{os.cpu_count()} cores (a shared machine: CPU-time figures are steadier than wall)")
    tmp = Path(tempfile.mkdtemp(prefix="dw-dense-bench-"))
    try:
        state_home(tmp / "home")
        if "classifier" not in args.skip:
            bench_classifier(args, tmp)
        if "peer" not in args.skip:
            bench_peer(args, tmp)
        if "big" not in args.skip:
            bench_big(args, tmp)
        if "package" not in args.skip:
            bench_package(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
