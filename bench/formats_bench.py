"""Scan throughput on a mixed share (docx, xlsx, pdf, pptx, photos, zips) with 1 and 2
worker processes: items/s, MB/s, the speed-up, and the peak memory of the scan (the
scanning process plus its workers, proportional set size sampled every 50 ms).

    .venv/bin/python bench/formats_bench.py --mb 300 --runs 3

Prints the median of the runs. Tests never assert on time; this is where speed is shown.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import tempfile
import threading
import time
import zipfile
from pathlib import Path

LINE = ("Pupil Amelia Khan, UPN U820200014013, NHS 943 476 5919, tel 020 7946 0123, "
        "amelia.khan@example.co.uk, B33 8TH")
WORDS = "the class read a story about a fox and wrote three sentences in their books".split()


def _prose(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _docx(rng):
    import docx
    d = docx.Document()
    for i in range(60):
        d.add_paragraph(LINE if i % 20 == 0 else _prose(rng, 40))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _xlsx(rng):
    import openpyxl
    wb = openpyxl.Workbook()
    for r in range(400):
        wb.active.append([f"Pupil {r}", "U820200014013" if r % 50 == 0 else "", _prose(rng, 6), r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _pdf(rng):
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for _page in range(4):
        for i in range(40):
            c.drawString(40, 800 - i * 19, LINE[:90] if i == 0 else _prose(rng, 14))
        c.showPage()
    c.save()
    return buf.getvalue()


def _pptx(rng):
    from pptx import Presentation
    deck = Presentation()
    for _ in range(8):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "Assembly"
        slide.placeholders[1].text = _prose(rng, 50) + "\n" + LINE
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


def _jpeg(rng):
    from PIL import Image
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (51, 30, 4.0), 3: "W", 4: (0, 7, 39.0)})
    img = Image.frombytes("RGB", (1200, 900), rng.randbytes(1200 * 900 * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, exif=exif)
    return buf.getvalue()


MAKERS = {"docx": _docx, "xlsx": _xlsx, "pdf": _pdf, "pptx": _pptx, "jpg": _jpeg}


def build_share(root: Path, target_mb: float) -> tuple[int, int]:
    """Write a mixed share of about ``target_mb`` MB; returns (files, bytes)."""
    rng = random.Random(7)
    protos = {ext: [fn(rng) for _ in range(3)] for ext, fn in MAKERS.items()}
    # By count: mostly documents; by bytes: mostly photos and zips, as on a real share.
    cycle = ["docx"] * 6 + ["xlsx"] * 3 + ["pdf"] * 4 + ["pptx"] * 2 + ["jpg"] * 4 + ["zip"]
    total = files = 0
    i = 0
    while total < target_mb * 1e6:
        ext = cycle[i % len(cycle)]
        folder = root / f"dept{i % 7}" / f"year{i % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        if ext == "zip":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for j, e in enumerate(("docx", "pdf", "jpg", "xlsx")):
                    zf.writestr(f"inner/{j}.{e}", rng.choice(protos[e]))
            data = buf.getvalue()
        else:
            data = bytearray(rng.choice(protos[ext]))
        path = folder / f"f{i:05}.{ext}"
        path.write_bytes(bytes(data))
        total += len(data)
        files += 1
        i += 1
    return files, total


class PeakMemory:
    """Peak proportional set size (PSS) of this process plus all its children."""

    def __init__(self) -> None:
        import psutil
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # PSS: pages a forked worker shares with the scanning process count once.
                rss = self.proc.memory_full_info().pss + sum(
                    c.memory_full_info().pss for c in self.proc.children(recursive=True))
            except Exception:  # noqa: BLE001 - a worker ended between listing and reading
                continue
            self.peak = max(self.peak, rss)
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=300.0, help="share size in MB (default 300)")
    ap.add_argument("--runs", type=int, default=3, help="runs per worker count (median)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="dw-formats-bench-") as tmp:
        tmp = Path(tmp)
        os.environ["DATAWARD_HOME"] = str(tmp / "home")
        from dataward.home import init_home
        from dataward.pipelines.scan import run_scan
        from dataward.settings import Source, load_settings
        settings = load_settings()
        init_home(settings)
        share = tmp / "share"
        t0 = time.perf_counter()
        files, size = build_share(share, args.mb)
        print(f"share: {files} files, {size / 1e6:.1f} MB (built in {time.perf_counter() - t0:.0f} s); "
              f"{os.cpu_count()} cores")
        medians = {}
        for n in args.workers:
            settings.scan.workers = n
            runs = []
            for r in range(args.runs):
                with PeakMemory() as mem:
                    res = run_scan(settings, sources=[Source(name="bench", path=share)], adhoc=True,
                                   out_dir=tmp / f"out-{n}-{r}")
                runs.append((res.seconds, res.items, mem.peak))
            secs = statistics.median(s for s, _, _ in runs)
            items = runs[0][1]
            peak = max(p for _, _, p in runs)
            medians[n] = secs
            print(f"workers={n}: {items} items (members included) in {secs:.1f} s median of "
                  f"{args.runs}: {items / secs:,.0f} items/s, {size / 1e6 / secs:.1f} MB/s, "
                  f"peak memory {peak / 2**20:.0f} MiB")
        if 1 in medians and 2 in medians:
            print(f"speed-up with 2 workers: {medians[1] / medians[2]:.2f}x (target >= 1.7x)")


if __name__ == "__main__":
    main()
