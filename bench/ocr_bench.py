"""Text recognition benchmark: recall on scanned school letters and forms, pages per second
per core against Presidio's image redactor, and a nightly scan with OCR on and off.

    python bench/ocr_bench.py [--docs 8] [--share-files 200] [--runs 3]

Run it with a Python that has dataward's dependencies and the `bench` extra
(presidio-image-redactor, scikit-image for its public-domain photos of people).

1. Pages: --docs letters and forms (reportlab, made-up pupils whose identifiers pass their
   checksums), rendered with PDFium and damaged as paper is:
   - 300dpi: 300 dpi with light scanner noise;
   - 150dpi: 150 dpi, noise and a 2 degree skew;
   - phone:  a phone photo: the page smaller in a 12 MP frame on a desk, perspective,
             uneven light, blur, JPEG;
   - turned: 300 dpi turned by 90 or 180 degrees.
   Recall = planted values found (matched by fingerprint) / planted values; 8 a page:
   pupil name (roster), UPN, ULN, NHS number, date of birth, postcode, phone, parent NINO.
   Photos of people (scikit-image's astronaut and cameraman, the EXIF sample photos, a
   drawn playground) must give no finding.
2. Peer, same pages, same process: presidio-image-redactor's ImageAnalyzerEngine (pytesseract
   over the whole image) with an AnalyzerEngine holding dataward's recognizers and roster,
   so that only the reading of the picture differs; the peer as its documentation sets it
   up (default TesseractOCR, no preprocessing). Both run Tesseract on one thread
   (OMP_THREAD_LIMIT=1); pages per second per core = pages / CPU seconds of the process
   and its Tesseract children. The two sides take turns page by page (which goes first
   alternates), --runs times; figures are medians of the runs.
3. Nightly scan: --share-files files of which 5% are image-only PDFs (one or two scanned
   pages), the rest typed letters (txt, docx, text PDF); a full scan with 2 workers, OCR
   off and on in turn (interleaved); wall time of each (median of --runs).
"""
from __future__ import annotations

import argparse
import io
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["OMP_THREAD_LIMIT"] = "1"

from ocr_pages import phone_photo, render_page, scanner_noise
from PIL import Image, ImageDraw, ImageFilter

from dataward.synthetic import make_nino, make_pupils

ENTITIES = ("PERSON", "UK_UPN", "UK_ULN", "UK_NHS", "DATE_OF_BIRTH", "UK_POSTCODE",
            "PHONE_NUMBER", "UK_NINO")


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _jpeg(img: Image.Image, q: int = 88) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=q)
    return buf.getvalue()


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def make_pages(n_docs: int, seed: int = 3):
    """[(variant, name, bytes, planted [(entity, value)])] and the pupils (the roster)."""
    rng = random.Random(seed)
    pupils = make_pupils(n_docs, seed=seed)
    pages = []
    for i, p in enumerate(pupils):
        nino = make_nino(rng)
        layout = "form" if i % 2 else "letter"
        planted = [("PERSON", f"{p.forename} {p.surname}"), ("UK_UPN", p.upn), ("UK_ULN", p.uln),
                   ("UK_NHS", p.nhs), ("DATE_OF_BIRTH", p.dob.strftime("%d/%m/%Y")),
                   ("UK_POSTCODE", p.postcode), ("PHONE_NUMBER", p.phone), ("UK_NINO", nino)]
        hi = render_page(layout, p, nino, 300)
        lo = render_page(layout, p, nino, 150)
        pages.append(("300dpi", f"d{i}-300.png", _png(scanner_noise(hi, rng, 6)), planted))
        skewed = lo.rotate(rng.choice((-2, 2)), resample=Image.Resampling.BICUBIC, fillcolor=255)
        pages.append(("150dpi", f"d{i}-150.png", _png(scanner_noise(skewed, rng, 10)), planted))
        pages.append(("phone", f"d{i}-phone.jpg", _jpeg(phone_photo(hi, rng), 85), planted))
        turned = hi.rotate(90 if i % 2 else 180, expand=True)
        pages.append(("turned", f"d{i}-turned.png", _png(turned), planted))
    return pages, pupils


def photos_of_people() -> list[tuple[str, bytes]]:
    out = []
    try:
        from skimage import data
        out += [("astronaut.png", _png(Image.fromarray(data.astronaut()))),
                ("cameraman.png", _png(Image.fromarray(data.camera())))]
    except ImportError:
        print("  (scikit-image not installed: its photos of people are left out)")
    samples = Path(__file__).resolve().parents[1] / "tests" / "data" / "samples" / "exif-samples"
    for name in ("DSCN0010.jpg", "DSCN0021.jpg", "jolla.jpg", "iphone_hdr_NO.jpg"):
        out.append((name, (samples / name).read_bytes()))
    img = Image.new("RGB", (2400, 1800), (110, 170, 235))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 990, 2400, 1800], fill=(70, 150, 60))
    for k in range(8):
        x = 150 + k * 280
        d.ellipse([x, 540, x + 120, 660], fill=(225, 185, 150))
        d.rectangle([x - 25, 665, x + 145, 1350], fill=(160, 20, 40))
    out.append(("playground.jpg", _jpeg(img.filter(ImageFilter.GaussianBlur(2)))))
    return out


class DatawardSide:
    name = "dataward"

    def __init__(self, settings, classifier):
        from dataward.pipelines.scan_item import ItemContext
        self.ctx = ItemContext(settings, classifier, "bench")

    def findings(self, name: str, data: bytes) -> set[tuple[str, str]]:
        from dataward.pipelines.scan_item import ItemFindings, classify_bytes

        class Kept(ItemFindings):  # the item's findings as the scan gathers them
            kept: list

            def add(self, findings):
                super().add(findings)
                self.kept.extend(findings)

        row = {"status": "ok", "error": "", "audience": "staff", "locator": name, "taken": "",
               "ocr": ""}
        found = Kept(name, self.ctx)
        found.kept = []
        classify_bytes(data, name, self.ctx, row, found)
        return {(f.entity_type, f.fingerprint) for f in found.kept if f.entity_type != "GPS_LOCATION"}


class PresidioImageSide:
    name = "presidio-image-redactor"

    def __init__(self, classifier, threshold: float):
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
        from presidio_image_redactor import ImageAnalyzerEngine
        registry = RecognizerRegistry(supported_languages=["en"])
        for rec in classifier.recognizers.values():
            registry.add_recognizer(rec)
        registry.add_recognizer(classifier.names)
        seen = {}

        class Recording(AnalyzerEngine):
            def analyze(self, text, *a, **kw):
                seen["text"] = text
                return super().analyze(text, *a, **kw)

        analyzer = Recording(registry=registry, supported_languages=["en"],
                             nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}]))
        self.engine = ImageAnalyzerEngine(analyzer_engine=analyzer)
        self.seen, self.classifier, self.threshold = seen, classifier, threshold

    def findings(self, name: str, data: bytes) -> set[tuple[str, str]]:
        from dataward.connectors.roster import canonical
        results = self.engine.analyze(Image.open(io.BytesIO(data)), score_threshold=self.threshold)
        text, out = self.seen.get("text", ""), set()
        for r in results:
            value = text[r.start:r.end]
            if r.entity_type == "PERSON":
                norm = canonical(value)
            else:
                norm = self.classifier.recognizers[r.entity_type].normalise(value)
            out.add((r.entity_type, self.classifier.fingerprint(r.entity_type, norm)))
        return out


def expected(classifier, planted) -> set[tuple[str, str]]:
    from dataward.connectors.roster import canonical
    out = set()
    for entity, value in planted:
        norm = canonical(value) if entity == "PERSON" else classifier.recognizers[entity].normalise(value)
        out.add((entity, classifier.fingerprint(entity, norm)))
    return out


def bench_pages(sides, pages, photos, classifier, runs: int) -> dict:
    """Both sides over the same pages, page by page, the side going first alternating
    (so a burst of load from other work falls on both); recall from the first run (the
    reading is deterministic), pages per CPU-second and per second as medians of runs."""
    out = {s.name: {"hits": {}, "cpu": [], "wall": []} for s in sides}
    for run in range(runs):
        spent = {s.name: [0.0, 0.0] for s in sides}
        for k, (variant, name, data, planted) in enumerate(pages):
            want = expected(classifier, planted)
            for side in (sides if (k + run) % 2 == 0 else sides[::-1]):
                cpu0, wall0 = _cpu(), time.perf_counter()
                got = side.findings(name, data)
                spent[side.name][0] += _cpu() - cpu0
                spent[side.name][1] += time.perf_counter() - wall0
                if run == 0:
                    hit = out[side.name]["hits"].setdefault(variant, [0, 0])
                    hit[0] += len(want & got)
                    hit[1] += len(want)
        for name, (cpu, wall) in spent.items():
            out[name]["cpu"].append(len(pages) / cpu)
            out[name]["wall"].append(len(pages) / wall)
    results = {}
    for side in sides:
        r = out[side.name]
        hits = r["hits"]
        results[side.name] = {
            "recall": {v: h[0] / h[1] for v, h in hits.items()},
            "all": sum(h[0] for h in hits.values()) / sum(h[1] for h in hits.values()),
            "pages_per_cpu_s": statistics.median(r["cpu"]),
            "pages_per_wall_s": statistics.median(r["wall"]),
            "photo_findings": sum(len(side.findings(n, d)) for n, d in photos)}
    return results


def nightly(settings_factory, n_files: int, runs: int) -> dict:
    from ocr_pages import build_share

    from dataward.pipelines.scan import run_scan
    from dataward.settings import Source
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        share = Path(tmp) / "share"
        n_image = build_share(share, n_files)
        times: dict[bool, list[float]] = {False: [], True: []}
        counts: dict[bool, tuple[int, int]] = {}
        for run in range(runs):
            for ocr_on in ((False, True) if run % 2 == 0 else (True, False)):  # interleaved
                settings = settings_factory()
                settings.ocr.enabled = ocr_on
                started = time.perf_counter()
                result = run_scan(settings, sources=[Source(name="s", path=share)], adhoc=True)
                times[ocr_on].append(time.perf_counter() - started)
                import pyarrow.parquet as pq
                col = pq.read_table(result.out_dir / "items.parquet", columns=["ocr"])["ocr"].to_pylist()
                counts[ocr_on] = (col.count("read"), col.count("needed") + col.count("partial"))
        for ocr_on in (False, True):
            out["on" if ocr_on else "off"] = (statistics.median(times[ocr_on]), *counts[ocr_on])
    out["image_pdfs"] = n_image
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=8)
    ap.add_argument("--share-files", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="dw-ocr-bench-"))
    os.environ["DATAWARD_HOME"] = str(home)
    from dataward.home import init_home
    from dataward.pipelines.scan import build_roster, make_classifier
    from dataward.settings import load_settings

    pages, pupils = make_pages(args.docs)
    roster = home / "roster.csv"
    roster.write_text("Legal Forename,Legal Surname,UPN\n"
                      + "".join(f"{p.forename},{p.surname},{p.upn}\n" for p in pupils))
    cfg = home / "dataward.yaml"
    cfg.write_text(f"rosters:\n  - {{path: {roster}, kind: pupils}}\nscan: {{workers: 2}}\n"
                   "ocr: {scan_budget_minutes: 0}\n")
    init_home(load_settings(cfg))
    settings = load_settings(cfg)
    classifier = make_classifier(settings, build_roster(settings))
    photos = photos_of_people()
    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    print(f"{len(pages)} pages ({args.docs} documents x 4 variants), {len(photos)} photos, "
          f"{args.runs} run(s); "
          f"Tesseract on one thread; machine shared with other work.")

    sides = [DatawardSide(settings, classifier), PresidioImageSide(classifier, settings.scan.score_threshold)]
    results = bench_pages(sides, pages, photos, classifier, args.runs)
    variants = list(next(iter(results.values()))["recall"])
    print(f"\n{'':26}" + "".join(f"{v:>9}" for v in variants)
          + f"{'all':>7}{'pages/cpu-s':>13}{'pages/s':>9}{'photo findings':>16}")
    for name, r in results.items():
        print(f"{name:26}" + "".join(f"{r['recall'][v]:9.3f}" for v in variants)
              + f"{r['all']:7.3f}{r['pages_per_cpu_s']:13.3f}{r['pages_per_wall_s']:9.3f}"
              + f"{r['photo_findings']:16d}")

    print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    if not args.share_files:
        return
    night = nightly(lambda: load_settings(cfg), args.share_files, args.runs)
    off, on = night["off"], night["on"]
    print(f"\nnightly scan of {args.share_files} files, {night['image_pdfs']} image-only PDFs, 2 workers:")
    print(f"  OCR off: {off[0]:6.1f} s  ({off[2]} items marked as still needing OCR)")
    print(f"  OCR on:  {on[0]:6.1f} s  ({on[1]} items read by OCR, {on[2]} still needing it)"
          f"  -> x{on[0] / off[0]:.1f}")
    print("load average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
