"""Retention benchmarks: print figures, assert nothing.

1. plan: the pure planner over N synthetic images (default 200,000) and 2,000 leavers
   (plus 4,000 pupils on roll), named as schools name them: folders per pupil, names in
   file names, people tags, group photos. Target: under 20 s.
2. inventory + plan end to end over real JPEG files on disk (walk, EXIF/XMP read, hash
   of due files, ledger write).
3. apply: quarantine an approved plan of M files (default 10,000), beside a peer run of
   plain shutil.move of the same number of files (no checks, no journal, no ledger).
4. purge of the same files (overwrite, unlink, deletion record).

Each figure is the median of --repeat runs. Usage:
    python bench/retention_bench.py [--images 200000] [--files 10000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, UTC
from io import BytesIO
from pathlib import Path

FORENAMES = ["Jane", "Omar", "Lily", "Zoe", "Sam", "Amy", "Noah", "Ava", "Leo", "Isla", "Ella",
             "Jack", "Mia", "Harry", "Ruby", "Oscar", "Grace", "Alfie", "Freya", "Arlo"]


def pupils(n_leavers: int, n_roll: int, rnd: random.Random):
    from dataward.pipelines.mis import Pupil
    syllables = ["ka", "lo", "wen", "mar", "ti", "bro", "dell", "son", "ash", "ford", "ley",
                 "ham", "ri", "vo", "ston", "ber", "gan", "ne", "dor", "well"]
    names = set()
    while len(names) < n_leavers + n_roll:  # unique, letters only, like real surnames
        surname = "".join(rnd.choice(syllables) for _ in range(3)).capitalize()
        names.add((rnd.choice(FORENAMES), surname))
    out = []
    for i, (f, s) in enumerate(sorted(names)):
        leaver = i < n_leavers
        left = date(2023, 7, 21) - timedelta(days=rnd.randrange(0, 700)) if leaver else None
        out.append(Pupil(f"U{i:012d}", f, s, None, left, i + 2, "leavers" if leaver else "on-roll"))
    return [p for p in out if p.leave_date], [p for p in out if not p.leave_date]


def synthetic_inventory(n: int, people, rnd: random.Random):
    from dataward.retention.inventory import ImageItem
    root = Path("/srv/photos")
    items = []
    for i in range(n):
        kind = i % 4
        p = rnd.choice(people)
        year = f"20{rnd.randrange(15, 24)}-{rnd.randrange(16, 25)}"
        if kind == 0:    # folder per pupil
            rel, tags = f"{year}/Year {rnd.randrange(1, 7)}/{p.forename} {p.surname}/IMG_{i:06d}.jpg", ()
        elif kind == 1:  # name in the file name
            rel, tags = f"{year}/Class {rnd.randrange(1, 30)}/{p.surname}_{p.forename}_{i}.jpg", ()
        elif kind == 2:  # group photo with people tags
            group = rnd.sample(people, 4)
            rel = f"{year}/Events/Sports day/DSC{i:06d}.jpg"
            tags = tuple(("xmp:PersonInImage", f"{q.forename} {q.surname}") for q in group)
        else:            # names nobody
            rel, tags = f"{year}/Displays/Art/IMG_{i:06d}.jpg", (("exif:ImageDescription", "Art week"),)
        items.append(ImageItem(root, rel, 2_000_000, 1, tags))
    return items


def bench_plan(n_images: int, repeat: int) -> None:
    from dataward.retention.planner import plan
    from dataward.retention.schedule import Rules
    rnd = random.Random(7)
    leavers, roll = pupils(2000, 4000, rnd)
    inventory = synthetic_inventory(n_images, leavers + roll, rnd)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = plan(inventory, leavers, Rules(), date(2025, 1, 1), on_roll=roll)
        times.append(time.perf_counter() - t)
    print(f"plan (pure): {n_images:,} images, {len(leavers):,} leavers, {len(roll):,} on roll: "
          f"median {statistics.median(times):.2f} s (runs: {', '.join(f'{x:.2f}' for x in times)}); "
          f"due {len(result.due):,}, kept {len(result.keep):,}  [target < 20 s]")


def _jpeg_bytes() -> bytes:
    from PIL import Image
    buf = BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(buf, "JPEG")
    return buf.getvalue()


def _make_files(root: Path, n: int, names: list[tuple[str, str]], template: bytes) -> None:
    for i in range(n):
        f, s = names[i % len(names)]
        folder = root / f"{f} {s}"
        folder.mkdir(parents=True, exist_ok=True)
        # unique bytes after the JPEG end marker: every file hashes differently
        (folder / f"IMG_{i:06d}.jpg").write_bytes(template + i.to_bytes(4, "big"))


def bench_apply(n_files: int, repeat: int) -> None:
    from dataward.home import init_home
    from dataward.ledger import Ledger
    from dataward.retention import planning, purge, quarantine
    from dataward.settings import load_settings
    template = _jpeg_bytes()
    names = [(f"Pupil{i}", f"Leaver{i}") for i in range(400)]
    plan_t, apply_t, purge_t, peer_t = [], [], [], []
    for _ in range(repeat):
        base = Path(tempfile.mkdtemp(prefix="dw-bench-", dir=os.environ.get("BENCH_DIR")))
        os.environ["DATAWARD_HOME"] = str(base / "home")
        s = load_settings()
        init_home(s)
        root = base / "photos"
        _make_files(root, n_files, names, template)
        leavers = base / "leavers.csv"
        leavers.write_text("UPN,Forename,Surname,Date of Leaving\n" + "".join(
            f"U{i:012d},{f},{s_},21/07/2022\n" for i, (f, s_) in enumerate(names)))
        with Ledger.for_settings(s) as ledger:
            t = time.perf_counter()
            summary = planning.make_plan(s, ledger, planning.inputs_from(
                s, leavers=leavers, images=[root]))
            plan_t.append(time.perf_counter() - t)
            assert summary.due == n_files, summary
            planning.approve_plan(s, ledger, summary.plan_id, "Bench Approver")
            t = time.perf_counter()
            res = quarantine.apply_plan(s, ledger, summary.plan_id)
            apply_t.append(time.perf_counter() - t)
            assert res.moved == n_files
            t = time.perf_counter()
            pr = purge.purge(s, ledger, now=datetime.now(UTC) + timedelta(days=s.retention.grace_days + 1))
            purge_t.append(time.perf_counter() - t)
            assert pr.purged == n_files
        # peer: plain moves of the same number of files, same volume, no checks at all
        peer_root = base / "peer"
        _make_files(peer_root, n_files, names, template)
        dest = base / "peer-quarantine"
        dest.mkdir()
        files = sorted(peer_root.rglob("*.jpg"))
        t = time.perf_counter()
        for i, f in enumerate(files):
            shutil.move(f, dest / f"{i:06d}.jpg")
        peer_t.append(time.perf_counter() - t)
        shutil.rmtree(base)
    med = statistics.median
    print(f"plan end to end (walk, EXIF/XMP read, hash, ledger): {n_files:,} real JPEGs: "
          f"median {med(plan_t):.2f} s ({n_files / med(plan_t):,.0f} files/s)")
    print(f"apply (verify SHA-256, journal, rename, manifest, ledger): {n_files:,} files: "
          f"median {med(apply_t):.2f} s ({n_files / med(apply_t):,.0f} files/s)")
    print(f"  peer: shutil.move of {n_files:,} files, no checks: median {med(peer_t):.2f} s "
          f"({n_files / med(peer_t):,.0f} files/s)")
    print(f"purge (verify SHA-256, overwrite, fsync, unlink, record): {n_files:,} files: "
          f"median {med(purge_t):.2f} s ({n_files / med(purge_t):,.0f} files/s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--images", type=int, default=200_000)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--plan-only", action="store_true", help="skip the file benchmarks")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    bench_plan(args.images, args.repeat)
    if not args.plan_only:
        bench_apply(args.files, args.repeat)


if __name__ == "__main__":
    main()
