"""Backup benchmark: dataward against restic on the same tree, same target, same run.

Measures, for each tool (each run as its own process, as a technician would run it):
first backup MB/s, unchanged second backup seconds, full restore MB/s, and peak memory
(max RSS of the process, from wait4). Prints medians of --repeat runs.

    .venv/bin/python bench/backup_bench.py --size-mb 1024 --repeat 3

Needs Debian's `restic` on PATH (bench only) and gpg. The tree is a mix a school share
holds: photos/PDF-like incompressible files, text/CSV, Office-like documents, many small
files and duplicated copies. Both targets are folders on the same disk.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of one command; fails loudly on a non-zero exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
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
                          capture_output=True).returncode == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
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
              f"restic {subprocess.run(['restic', 'version'], capture_output=True, text=True).stdout.split()[1]}")
        rows: dict[str, dict[str, list[float]]] = {"dataward": {}, "restic": {}}
        for rep in range(args.repeat):
            for tool in ("restic", "dataward") if rep % 2 else ("dataward", "restic"):
                res = bench_once(tool, work / f"{tool}-{rep}", src, gh, fpr)
                for k, v in res.items():
                    rows[tool].setdefault(k, []).append(v)
        print(f"\nmedians of {args.repeat} runs, {mb:,.0f} MB tree, folder target on the same disk")
        print(f"{'':10} {'1st backup MB/s':>16} {'2nd (unchanged) s':>18} {'restore MB/s':>13} "
              f"{'peak RSS MB':>12} {'repo MB':>8}")
        for tool, r in rows.items():
            med = {k: statistics.median(v) for k, v in r.items()}
            print(f"{tool:10} {mb / med['first_s']:>16,.0f} {med['second_s']:>18.2f} "
                  f"{mb / med['restore_s']:>13,.0f} {med['peak_mb']:>12,.0f} {med['repo_mb']:>8,.0f}")
        print("\nraw seconds:", {t: {k: [round(x, 2) for x in v] for k, v in r.items()}
                                  for t, r in rows.items()})
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_once(tool: str, base: Path, src: Path, gh: Path, fpr: str) -> dict[str, float]:
    base.mkdir()
    repo, out = base / "repo", base / "restore"
    env = {**os.environ, "GNUPGHOME": str(gh)}
    if tool == "restic":
        env.update(RESTIC_PASSWORD="bench-password", RESTIC_CACHE_DIR=str(base / "cache"),
                   RESTIC_PROGRESS_FPS="0.2")
        subprocess.run(["restic", "init", "--repo", str(repo)], env=env, check=True,
                       capture_output=True)
        cmd = ["restic", "--repo", str(repo)]
        first = run([*cmd, "backup", str(src)], env)
        second = run([*cmd, "backup", str(src)], env)
        restore = run([*cmd, "restore", "latest", "--target", str(out)], env)
    else:
        env.update(DATAWARD_HOME=str(base / "home"), DATAWARD_BACKUP__GNUPGHOME=str(gh))
        env.pop("DATAWARD_CONFIG", None)
        cmd = [sys.executable, "-c", "from dataward.cli.main import main; main()", "backup"]
        first = run([*cmd, "run", "--target", str(repo), "--recovery-key", fpr, str(src)], env)
        second = run([*cmd, "run", "--target", str(repo), str(src)], env)
        restore = run([*cmd, "restore", "latest", "--to", str(out), "--target", str(repo)], env)
    if not same_tree(src, out / src.relative_to("/")):
        raise SystemExit(f"{tool}: the restored tree differs from the source")
    repo_mb = sum(p.stat().st_size for p in repo.rglob("*") if p.is_file()) / 1e6
    shutil.rmtree(base)
    return {"first_s": first[0], "second_s": second[0], "restore_s": restore[0],
            "peak_mb": max(first[1], second[1], restore[1]), "repo_mb": repo_mb}


if __name__ == "__main__":
    main()
