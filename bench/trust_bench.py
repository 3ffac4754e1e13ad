"""Trust benchmark: 20 demo schools scanned on a real Dask cluster through Prefect, on 1
and on 2 workers, and the trust report over 20 schools x 50,000 items.

    python bench/trust_bench.py [--schools 20] [--copies 4] [--parts 1] [--runs 1]

1. Schools: the demo generator with seeds 1..N (each a share of staff/, pupils/, admin/),
   each area's files copied --copies times into subfolders, so a part's scan outweighs
   the fixed cost of a task (a demo school alone is 40 items, about a second).
2. A PostgreSQL server (the trust ledger), a Prefect test server, `dask scheduler` and
   `dask worker --preload dataward.flows.trust_worker` processes (one thread each, a
   scan's item reader in one process: one core per worker), all on loopback, started here.
3. For 1 and for 2 workers, interleaved: a full scan of every school (fresh state, a fresh
   database already migrated, the flow's modules loaded), timed around the flow. Printed:
   wall time, the sum of the parts' own scan times (what `run_scan` measures) and of their
   whole scan calls, the flow's phases, the load average, the ratio 1-worker/2-worker wall
   time, and the overhead Dask and Prefect add: wall x workers / sum of scan times - 1.
4. The trust report over a dataset of N schools x 50,000 items (the real rows of the
   scans above, repeated), timed.
Medians of --runs runs. The machine may be shared: say so beside the figures.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "foundation"))

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(workers: int, env: dict[str, str], logs: Path) -> tuple[str, list]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0"], env=env, start_new_session=True,
                              stdout=open(logs / "scheduler.log", "ab"),  # noqa: SIM115
                              stderr=subprocess.STDOUT)]
    for i in range(workers):
        procs.append(subprocess.Popen(
            [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
             "--dashboard-address", ":0", "--preload", "dataward.flows.trust_worker"], env=env, start_new_session=True,
            stdout=open(logs / f"worker{i}.log", "ab"),  # noqa: SIM115 - kept by the process
            stderr=subprocess.STDOUT))
    from distributed import Client
    with Client(address, timeout=60) as c:
        c.wait_for_workers(workers, timeout=120)
    return address, procs


def stop(procs: list) -> None:
    for p in reversed(procs):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def new_database(server: str) -> str:
    """A fresh trust ledger, migrated (a trust's nightly scan finds its ledger there)."""
    import sqlalchemy as sa

    from dataward.ledger import Ledger
    name = "b_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    url = server.rsplit("/", 1)[0] + "/" + name
    Ledger(url).close()
    return url


def write_trust(root: Path, db: str, n: int, parts: int, schools_dir: Path) -> Path:
    lines = ["name: Bench Trust", f"database_url: {db}", f"state_dir: {root / 'state'}",
             f"results: {root / 'results'}", f"parts_per_share: {parts}", "item_workers: 1",
             "schools:"]
    lines += [f"  - {{id: school{i + 1:02d}, config: {schools_dir}/school{i + 1:02d}/dataward.yaml}}"
              for i in range(n)]
    path = root / "trust.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_once(workers: int, base: Path, server: str, args, schools_dir: Path,
             api: str) -> dict:
    from dataward.flows.trust import trust_scan
    root = Path(tempfile.mkdtemp(dir=base, prefix=f"w{workers}-"))
    trust = write_trust(root, new_database(server), args.schools, args.parts, schools_dir)
    env = {**os.environ, "PREFECT_API_URL": api, "DASK_DISTRIBUTED__WORKER__DAEMON": "False",
           "PYTHONPATH": str(ROOT / "src")}
    address, procs = start_cluster(workers, env, root)
    try:
        t = time.perf_counter()
        out = trust_scan(str(trust), dask_address=address)
        wall = time.perf_counter() - t
    finally:
        stop(procs)
    scans = sum(p["seconds"] for p in out["parts"])
    calls = sum(p["call_seconds"] for p in out["parts"])
    items = sum(p["items"] for p in out["parts"])
    return {"wall": wall, "scans": scans, "calls": calls, "items": items,
            "parts": len(out["parts"]), "overhead": wall * workers / scans - 1,
            "overhead_calls": wall * workers / calls - 1, "trust": trust,
            "phases": out["seconds"], "load": os.getloadavg()[0]}


def bench_report(trust_path: Path, per_school: int) -> float:
    """Fill the trust's results with N schools x per_school items (real rows, repeated)."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from dataward.trust.config import load_trust
    from dataward.trust.report import write_trust_report
    trust = load_trust(trust_path)
    root = Path(trust.results_location)
    real = ds.dataset(root / "items", format="parquet", partitioning="hive").to_table()
    real = real.drop_columns(["school", "scan_date"])
    big = Path(tempfile.mkdtemp(dir=root.parent, prefix="big-"))
    for school in trust.schools:
        reps = per_school // real.num_rows + 1
        rows = pa.concat_tables([real] * reps).slice(0, per_school)
        d = big / "items" / f"school={school.id}" / "scan_date=2026-11-29"
        d.mkdir(parents=True)
        pq.write_table(rows, d / "all.parquet", compression="zstd")
    trust.results = str(big)
    t = time.perf_counter()
    write_trust_report(trust, big / "report")
    return time.perf_counter() - t


def report_only(args) -> None:
    from dataward.demo import build_demo
    from dataward.trust.config import load_trust
    from dataward.trust.results import write_parts
    from dataward.trust.scan import prepare_school, scan_part
    base = Path(tempfile.mkdtemp(prefix="dw-trust-report-"))
    try:
        schools_dir = base / "schools"
        for i in range(args.schools):      # one demo school's files, under every id
            (schools_dir / f"school{i + 1:02d}").parent.mkdir(parents=True, exist_ok=True)
        build_demo(schools_dir / "school01", pupils=args.pupils, seed=1)
        for i in range(1, args.schools):
            os.symlink(schools_dir / "school01", schools_dir / f"school{i + 1:02d}")
        path = write_trust(base, f"sqlite:///{base / 'ledger.sqlite'}", args.schools, args.parts,
                           schools_dir)
        trust = load_trust(path)
        write_parts(trust, [scan_part(trust, p) for p in prepare_school(trust, "school01")])
        for school in trust.schools:
            prepare_school(trust, school.id)
        seconds = bench_report(path, args.report_items)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"trust report, {args.schools} schools x {args.report_items} items: {seconds:.2f} s "
          "(target < 10 s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=20)
    ap.add_argument("--pupils", type=int, default=60)
    ap.add_argument("--parts", type=int, default=1)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--report-items", type=int, default=50_000)
    ap.add_argument("--report-only", action="store_true",
                    help="only the report: one school scanned in-process, its rows repeated")
    args = ap.parse_args()
    if args.report_only:
        report_only(args)
        return
    from test_ledger_postgres import running_postgres

    from dataward.demo import build_demo
    base = Path(tempfile.mkdtemp(prefix="dw-trust-bench-"))
    os.environ["PREFECT_HOME"] = str(base / "prefect")
    os.environ["DATAWARD_HOME"] = str(base / "unused-home")
    schools_dir = base / "schools"
    t = time.perf_counter()
    for i in range(args.schools):
        school = schools_dir / f"school{i + 1:02d}"
        build_demo(school, pupils=args.pupils, seed=i + 1)
        for area in (school / "demo-share").iterdir():
            originals = list(area.iterdir())
            for k in range(1, args.copies):
                (area / f"copy{k}").mkdir()
                for entry in originals:
                    (shutil.copytree if entry.is_dir() else shutil.copy2)(
                        entry, area / f"copy{k}" / entry.name)
    print(f"{args.schools} demo schools built in {time.perf_counter() - t:.1f} s")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    # The flow's own process loads its modules before the clock, as the workers do with
    # their preload: the figures are the cluster's, not one process's first imports.
    import dataward.flows.trust
    import dataward.trust.outcome
    import dataward.trust.results  # noqa: F401
    results: dict[int, list[dict]] = {1: [], 2: []}
    try:
        with running_postgres() as server, prefect_test_harness(server_startup_timeout=240):
            api = PREFECT_API_URL.value()
            for _ in range(args.runs):
                for workers in (1, 2):
                    r = run_once(workers, base, server, args, schools_dir, api)
                    results[workers].append(r)
                    print(f"  {workers} worker(s): wall {r['wall']:.1f} s, parts' own scan time "
                          f"{r['scans']:.1f} s (whole calls {r['calls']:.1f} s), {r['parts']} "
                          f"parts, {r['items']} items, overhead {100 * r['overhead']:.1f}% "
                          f"({100 * r['overhead_calls']:.1f}% over whole calls; phases "
                          f"{r['phases']}, load {r['load']:.1f})", flush=True)
            report_s = bench_report(results[2][-1]["trust"], args.report_items)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    med = {w: statistics.median(r["wall"] for r in rs) for w, rs in results.items()}
    ovh = {w: statistics.median(r["overhead"] for r in rs) for w, rs in results.items()}
    ovc = {w: statistics.median(r["overhead_calls"] for r in rs) for w, rs in results.items()}
    loads = [r["load"] for rs in results.values() for r in rs]
    per_core = statistics.median(r["items"] / r["scans"] for r in results[1])
    print(f"\nmedian wall: 1 worker {med[1]:.1f} s, 2 workers {med[2]:.1f} s: "
          f"ratio {med[1] / med[2]:.2f}x (target >= 1.7x)")
    print(f"Dask + Prefect overhead over the scans: 1 worker {100 * ovh[1]:.1f}%, "
          f"2 workers {100 * ovh[2]:.1f}% (target < 10%); over the whole scan calls "
          f"(their ledger rows and audit counted as scan): {100 * ovc[1]:.1f}%, "
          f"{100 * ovc[2]:.1f}%")
    print(f"load average (1 min) at the end of each run: {min(loads):.1f} to {max(loads):.1f}")
    print(f"per-core throughput (full scan, demo items): {per_core:.1f} items/s")
    print(f"trust report, {args.schools} schools x {args.report_items} items: {report_s:.2f} s "
          "(target < 10 s)")


if __name__ == "__main__":
    main()
