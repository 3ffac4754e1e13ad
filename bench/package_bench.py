"""Packaging throughput: `dataward package create` beside 7-Zip on the same files.

Makes a folder of mixed school-like files (CSV exports, photos, Office files, scanned
PDFs; about a quarter each by count), then times, in the same run:

* dataward, password (WinZip AES-256 zip holding one inner archive), through the real
  ``create_package`` pipeline (selection, hashing, manifest, ledger record; the
  classifier scan before packaging is switched off: it is measured by the scan bench);
* dataward, OpenPGP (``--recipient``, gpg AES-256), with a throwaway key;
* ``7zz a -tzip -mem=AES256 -p...`` on the same folder (7-Zip's defaults: deflate -mx5,
  all cores), the peer the target is set against; and the same with ``-mx1`` (7-Zip's
  fastest deflate), for scale.

Each is run ``--runs`` times; the median MB/s (of the input size) is printed.

    .venv/bin/python bench/package_bench.py --size-mb 500 --runs 3
"""
from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

MB = 1024 * 1024


def make_corpus(root: Path, size_mb: int, seed: int = 7) -> tuple[int, int]:
    """Mixed files totalling ``size_mb``; returns (files, bytes)."""
    from dataward.transfer.passphrase import eff_long_wordlist
    rnd = random.Random(seed)
    words = eff_long_wordlist()
    lines = "".join(",".join(rnd.choice(words) for _ in range(6)) + f",{rnd.randint(0, 10**9)}\n"
                    for _ in range(40_000)).encode()
    prose = " ".join(rnd.choice(words) for _ in range(200_000)).encode()

    def text(n: int, src: bytes) -> bytes:
        out = bytearray()
        while len(out) < n:
            i = rnd.randrange(0, len(src) - 65536)
            out += src[i:i + 65536]
        return bytes(out[:n])

    total = count = 0
    while total < size_mb * MB:
        kind = count % 4
        folder = root / f"Year {count % 7 + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        if kind == 0:
            data, name = text(rnd.randint(200_000, 3_000_000), lines), f"export {count}.csv"
        elif kind == 1:
            data, name = b"\xff\xd8\xff\xe0" + os.urandom(rnd.randint(500_000, 5_000_000)), f"IMG_{count:04d}.jpg"
        elif kind == 2:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("word/document.xml", text(rnd.randint(400_000, 2_500_000), prose))
            data, name = buf.getvalue(), f"report {count}.docx"
        else:
            n = rnd.randint(300_000, 2_000_000)
            data, name = (b"%PDF-1.7\n" + os.urandom(n // 2) + text(n // 2, prose)), f"scan {count}.pdf"
        (folder / name).write_bytes(data)
        total += len(data)
        count += 1
    return count, total


def _keyring() -> tuple[str, str]:
    home = tempfile.mkdtemp(prefix="dwbench-")
    os.chmod(home, 0o700)
    uid = "Bench LA <bench@la.example>"
    base = ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run([*base, "--quick-gen-key", uid, "ed25519", "sign,cert", "1y"], check=True,
                   capture_output=True)
    out = subprocess.run([*base, "--with-colons", "--list-keys", uid], check=True,
                         capture_output=True, text=True).stdout
    fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
    subprocess.run([*base, "--quick-add-key", fpr, "cv25519", "encr", "1y"], check=True,
                   capture_output=True)
    return home, fpr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, help="reuse (or keep) the corpus in this folder")
    ap.add_argument("--no-pgp", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dwpkgbench-"))
    data = args.data or work / "data"
    if not data.exists() or not any(data.iterdir()):
        t = time.perf_counter()
        n, size = make_corpus(data, args.size_mb)
        print(f"corpus: {n} files, {size / MB:.0f} MB in {time.perf_counter() - t:.0f} s")
    size = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
    n = sum(1 for p in data.rglob("*") if p.is_file())
    print(f"input: {n} files, {size / MB:.1f} MB (mixed: csv, jpg, docx, pdf)")

    os.environ["DATAWARD_HOME"] = str(work / "home")
    from dataward.transfer import PasswordMethod, PgpMethod, create_package
    from dataward.settings import load_settings

    gpg_home, fpr = (None, None) if args.no_pgp else _keyring()
    settings = load_settings(None, transfer={
        "allowed_roots": [str(data)], "max_package_mb": 1e6, "scan_before_packaging": False,
        "gnupg_home": gpg_home})
    out = work / "out"
    out.mkdir()

    def dataward(method) -> tuple[float, int]:
        t = time.perf_counter()
        res = create_package(settings, [data], recipient="Bench LA", method=method, out_dir=out)
        dt = time.perf_counter() - t
        res.path.unlink()
        return dt, res.package_size

    def sevenzip(*extra: str) -> tuple[float, int]:
        target = out / "7z.zip"
        t = time.perf_counter()
        subprocess.run(["7zz", "a", "-tzip", "-mem=AES256", "-pbench-passphrase-words-six",
                        *extra, "-bd", str(target), "."], cwd=data, check=True,
                       capture_output=True)
        dt = time.perf_counter() - t
        sz = target.stat().st_size
        target.unlink()
        return dt, sz

    peers = {"dataward (password, AES-256 zip)": lambda: dataward(PasswordMethod()),
             "7zz a -tzip -mem=AES256": sevenzip,
             "7zz ... -mx1 (fastest deflate)": lambda: sevenzip("-mx1")}
    if fpr:
        peers["dataward (OpenPGP, gpg AES-256)"] = lambda: dataward(PgpMethod(fpr))
    results: dict[str, list[tuple[float, int]]] = {k: [] for k in peers}
    for _ in range(args.runs):
        for name, fn in peers.items():   # interleaved, so load from others hits all alike
            results[name].append(fn())
    print(f"{'':36} {'median MB/s':>11} {'runs (s)':>24} {'output MB':>10}")
    med = {}
    for name, rs in results.items():
        med[name] = statistics.median(size / MB / dt for dt, _ in rs)
        runs = " ".join(f"{dt:.1f}" for dt, _ in rs)
        print(f"{name:36} {med[name]:11.1f} {runs:>24} {rs[0][1] / MB:10.1f}")
    seven = med["7zz a -tzip -mem=AES256"]
    for name in med:
        if name.startswith("dataward"):
            print(f"{name}: {med[name] / seven:.2f}x 7-Zip defaults (target >= 0.8x), "
                  f"{med[name] / med['7zz ... -mx1 (fastest deflate)']:.2f}x 7-Zip -mx1")
    shutil.rmtree(work, ignore_errors=True)
    if gpg_home:
        subprocess.run(["gpgconf", "--homedir", gpg_home, "--kill", "gpg-agent"], capture_output=True)
        shutil.rmtree(gpg_home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
