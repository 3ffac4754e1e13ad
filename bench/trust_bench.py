"""Trust benchmark: 20 demo schools scanned on a real Dask cluster through Prefect, on 1
and on 2 workers, and the trust report over 20 schools x 50,000 items.

    python bench/trust_bench.py [--schools 20] [--copies 4] [--parts 1] [--runs 1]

1. Schools: the demo generator with seeds 1..N (each a share of staff/, pupils/, admin/),
   each area's files copied --copies times into subfolders, so a part's scan outweighs
   the fixed cost of a task (a demo school alone is 40 items, about a second).
2. A PostgreSQL server (the trust ledger), a Prefect test server, `dask scheduler` and
   `dask worker` processes, both with `--preload dataward.flows.trust_worker` (one thread
   a worker, a scan's item reader in one child process: the two take turns, one core per
   worker), all on loopback, started here.
3. Before each pair of runs, what the machine gives two processes right now: a pure CPU
   loop alone, then two at once (2.0x with two free cores; less while others work).
4. For 1 and for 2 workers, interleaved: a full scan of every school (fresh state, a fresh
   database already migrated, the flow's modules loaded), timed around the flow. Printed:
   wall time, the sum of the parts' own scan times (what `run_scan` measures) and of their
   whole scan calls, the flow's phases, the ratio 1-worker/2-worker wall time, the
   overhead Dask and Prefect add (wall x workers / sum of scan times - 1), and the CPU
   seconds each process used during the run (/proc/<pid>/stat: the flow's process, the
   Prefect server, PostgreSQL, the scheduler, the nannies, the worker processes, their
   item readers; the scans' own threads; everyone else's work on the machine from
   /proc/stat), so a slow 2-worker run says whose CPU it lacked.
5. The trust report over a dataset of N schools x 50,000 items (the real rows of the
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


PRELOAD = "dataward.flows.trust_worker"     # on the scheduler and on every worker


def start_cluster(workers: int, env: dict[str, str], logs: Path) -> tuple[str, list]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0", "--preload", PRELOAD], env=env, start_new_session=True,
                              stdout=open(logs / "scheduler.log", "ab"),  # noqa: SIM115
                              stderr=subprocess.STDOUT)]
    for i in range(workers):
        procs.append(subprocess.Popen(
            [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
             "--dashboard-address", ":0", "--preload", PRELOAD], env=env, start_new_session=True,
            stdout=open(logs / f"worker{i}.log", "ab"),  # noqa: SIM115 - kept by the process
            stderr=subprocess.STDOUT))
    from distributed import Client
    with Client(address, timeout=60) as c:
        c.wait_for_workers(workers, timeout=120)
    return address, procs


TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float, float]]:
    """Every process: pid -> (parent pid, its own CPU seconds, its reaped children's)."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    f = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            out[int(name)] = (int(f[1]), (int(f[11]) + int(f[12])) / TICK,
                              (int(f[13]) + int(f[14])) / TICK)
    return out


def machine_cpu() -> tuple[float, float]:
    """CPU seconds the whole machine has been busy (all processes, everyone's), and stolen
    by the hypervisor, since boot (/proc/stat)."""
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / TICK, f[7] / TICK


def _spin(n: int) -> None:
    while n:
        n -= 1


def parallel_ratio(n: int = 15_000_000) -> float:
    """What two processes get from this machine right now: the same pure CPU loop run
    alone, then twice at once; 2 x alone / together (2.0 with two free cores)."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    t = time.perf_counter()
    p = ctx.Process(target=_spin, args=(n,))
    p.start()
    p.join()
    alone = time.perf_counter() - t
    t = time.perf_counter()
    ps = [ctx.Process(target=_spin, args=(n,)) for _ in range(2)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return 2 * alone / (time.perf_counter() - t)


def _tree(procs: dict, root: int) -> float:
    """CPU seconds of a process and all its descendants, live or reaped."""
    if root not in procs:
        return 0.0
    _, own, reaped = procs[root]
    return own + reaped + sum(_tree(procs, pid) for pid, v in procs.items() if v[0] == root)


def cpu_sample(roles: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each part of the run. ``roles`` names root processes; a dask
    worker (the nanny) is split into the nanny, the worker process and its item readers;
    the flow is the bench's own process without its children."""
    procs = _processes()
    out: dict[str, float] = {"flow": procs[os.getpid()][1]}
    for role, pid in roles.items():
        if role.startswith("worker"):
            kids = [k for k, v in procs.items() if v[0] == pid]
            out["nannies"] = out.get("nannies", 0.0) + procs.get(pid, (0, 0.0, 0.0))[1]
            for k in kids:
                readers = procs[k][2] + sum(_tree(procs, c) for c, v in procs.items()
                                            if v[0] == k)
                out["worker processes"] = out.get("worker processes", 0.0) + procs[k][1]
                out["item readers"] = out.get("item readers", 0.0) + readers
        else:
            out[role] = out.get(role, 0.0) + _tree(procs, pid)
    return out


def service_roles(server: str) -> dict[str, int]:
    """The Prefect server and PostgreSQL's postmaster, found among this run's processes."""
    from test_ledger_postgres import DATA_DIRS
    roles = {}
    pidfile = DATA_DIRS[server] / "db" / "postmaster.pid"
    roles["postgres"] = int(pidfile.read_text().split()[0])
    for pid, (ppid, _, _) in _processes().items():
        if ppid == os.getpid():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"uvicorn" in cmd or b"prefect" in cmd:
                roles["prefect server"] = pid
    return roles


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
    roles = {**service_roles(server), "scheduler": procs[0].pid,
             **{f"worker{i}": p.pid for i, p in enumerate(procs[1:])}}
    try:
        logs_before = api_logs()[0]
        before, machine = cpu_sample(roles), machine_cpu()
        t = time.perf_counter()
        out = trust_scan(str(trust), dask_address=address)
        wall = time.perf_counter() - t
        after, machine_after = cpu_sample(roles), machine_cpu()
    finally:
        stop(procs)
    logs, loggers = api_logs()
    cpu = {k: after[k] - before.get(k, 0.0) for k in after}
    ours = sum(cpu.values())
    busy, stolen = (b - a for a, b in zip(machine, machine_after, strict=True))
    cpu["everyone else"] = busy - ours
    cpu["stolen"] = stolen
    worker_tree = cpu["nannies"] + cpu["worker processes"] + cpu["item readers"]
    cpu["scan threads"] = sum(p["call_cpu"] for p in out["parts"])
    cpu["readers in parts"] = sum(p["reader_cpu"] for p in out["parts"])
    scans = sum(p["seconds"] for p in out["parts"])
    calls = sum(p["call_seconds"] + p["write_seconds"] for p in out["parts"])
    items = sum(p["items"] for p in out["parts"])
    return {"wall": wall, "scans": scans, "calls": calls, "items": items, "cpu": cpu,
            "cores_per_worker": worker_tree / wall / workers, "busy_cores": busy / wall,
            "part_seconds": [p["seconds"] for p in out["parts"]],
            "api_logs": (logs - logs_before, sorted(loggers)),
            "flow_s": wall - sum(out["seconds"].values()),
            "parts": len(out["parts"]), "overhead": wall * workers / scans - 1,
            "overhead_calls": wall * workers / calls - 1, "trust": trust,
            "phases": out["seconds"], "load": os.getloadavg()[0]}


def api_logs() -> tuple[int, set[str]]:
    """Log records the Prefect server holds, and the loggers they came from."""
    from prefect import get_client
    n, names = 0, set()
    with get_client(sync_client=True) as client:
        while batch := client.read_logs(limit=200, offset=n):
            n += len(batch)
            names.update(log.name for log in batch)
    return n, names


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
    print(f"{args.schools} demo schools built in {time.perf_counter() - t:.1f} s (--copies "
          f"{args.copies}, --parts {args.parts})")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    # The flow's own process loads its modules before the clock, as the workers do with
    # their preload: the figures are the cluster's, not one process's first imports.
    import dataward.flows.trust
    import dataward.trust.outcome
    import dataward.trust.results  # noqa: F401
    results: dict[int, list[dict]] = {1: [], 2: []}
    ratios: list[float] = []
    try:
        with running_postgres() as server, prefect_test_harness(server_startup_timeout=240):
            api = PREFECT_API_URL.value()
            for _ in range(args.runs):
                ratio = parallel_ratio()
                ratios.append(ratio)
                print(f"  the machine now: two CPU-bound processes get {ratio:.2f}x one "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
                for workers in (1, 2):
                    r = run_once(workers, base, server, args, schools_dir, api)
                    results[workers].append(r)
                    print(f"  {workers} worker(s): wall {r['wall']:.1f} s, parts' own scan time "
                          f"{r['scans']:.1f} s (whole calls with their dataset writes {r['calls']:.1f} s), {r['parts']} "
                          f"parts, {r['items']} items, overhead {100 * r['overhead']:.1f}% "
                          f"({100 * r['overhead_calls']:.1f}% over whole calls; phases "
                          f"{r['phases']}, load {r['load']:.1f})", flush=True)
                    print("    CPU seconds during the run: " + ", ".join(
                        f"{k} {v:.1f}" for k, v in r["cpu"].items()) + f"; cores used by "
                        f"each worker (nanny, worker, item readers) {r['cores_per_worker']:.2f}, "
                        f"the machine busy {r['busy_cores']:.2f} of 2 cores; log records sent "
                        f"to the Prefect API {r['api_logs'][0]} (loggers so far: "
                        f"{', '.join(r['api_logs'][1])})", flush=True)
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
    print(f"load average (1 min) at the end of each run: {min(loads):.1f} to {max(loads):.1f}; "
          f"two CPU-bound processes got {statistics.median(ratios):.2f}x one (median; "
          f"{', '.join(f'{x:.2f}' for x in ratios)}); ratio run by run: " + ", ".join(
              f"{a['wall'] / b['wall']:.2f}x" for a, b in zip(results[1], results[2], strict=True)))
    for w, rs in results.items():
        part = statistics.median(p for r in rs for p in r["part_seconds"])
        cpu = {k: statistics.median(r["cpu"][k] for r in rs) for k in rs[0]["cpu"]}
        print(f"{w} worker(s), medians: a part {part:.2f} s of scanning ({rs[0]['items'] // rs[0]['parts']} "
              f"items); flow start and end {statistics.median(r['flow_s'] for r in rs):.2f} s, "
              + ", ".join(f"{k} {statistics.median(r['phases'][k] for r in rs):.2f} s"
                          for k in rs[0]["phases"])
              + f"; cores used by each worker {statistics.median(r['cores_per_worker'] for r in rs):.2f}"
              + "; CPU s: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    print(f"per-core throughput (full scan, demo items): {per_core:.1f} items/s")
    print(f"trust report, {args.schools} schools x {args.report_items} items: {report_s:.2f} s "
          "(target < 10 s)")


if __name__ == "__main__":
    main()
