"""Scan benchmarks: classifier throughput and recall against Presidio peers, a mixed
share read end to end beside an extraction floor, an unchanged rescan of many small
files, and a scan's peak memory.

    python bench/scan_bench.py [--mb 10] [--files 100000] [--runs 3] [--scale 2]

1. Corpus: school-like text documents (reports, letters, minutes, class lists) of at
   least --mb MB with planted identifiers whose positions are known.
   - dataward: its Classifier (Presidio AnalyzerEngine + dataward recognizers + roster).
   - naive: Presidio's AnalyzerEngine with the no-op NLP engine, its predefined
     recognizers plus its UK ones (NHS, NINO, postcode, passport), each whole document,
     on a 1 MB sample. Recall is measured on the planted identifiers for both (the naive
     side's DATE_TIME counts as a date of birth; it has no UPN, ULN or roster names).
   - Presidio with entities=[...]: the same engine asked only for the UK identifiers,
     e-mail, phone and dates, as a user scanning for UK identifiers would call it.
   - Presidio with spaCy's small English model (PERSON by NER), when en_core_web_sm is
     installed; it is not published on PyPI (explosion ships it from GitHub releases),
     so without it the line says it was not run.
1b. Mixed share (bench/school_corpus.py: docx, xlsx, csv, txt, jpeg, an mbox with
   attachments): side by side in one run, MB/s of the share's bytes for
   - extraction floor: the same files read by the same libraries (dataward's extractors,
     members and attachments included), no classification, one process;
   - Presidio entities=[...] on that extracted text (extraction + analysis);
   - dataward end to end (run_scan: walk, workers, classification, Parquet) with 1 and 2
     workers.
2. Unchanged rescan of --files small files: a full scan, then a timed incremental one,
   beside a bare os.scandir + lstat walk of the same tree (the floor).
3. Peak memory (ru_maxrss) of a process that scans the corpus written as files.
Medians of --runs runs are printed.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dataward.synthetic import make_pupils

PROSE = [
    "{fn} has made good progress in reading this term and now reads with expression.",
    "In mathematics, {fn} is confident with place value and is working on fractions.",
    "The class enjoyed the trip to the science museum and wrote excellent recounts.",
    "Homework is set every Friday and should be returned by the following Wednesday.",
    "Please remember that PE kit is needed on Tuesdays and Thursdays.",
    "{fn} contributes thoughtfully to class discussions and listens well to others.",
    "Next term our topic is the Romans; we will visit the local museum in March.",
    "Attendance this term was 96 per cent, which is in line with the school target.",
    "The governors thanked staff for their work on the new reading scheme.",
    "Targets for next term: use a wider range of punctuation and check spellings.",
    "The school council met on Monday to discuss playground equipment and the rota.",
    "Swimming lessons continue for Year 4 until the end of the spring term.",
]
TEMPLATES = [
    ("UK_UPN", "UPN: {v}"), ("UK_ULN", "ULN {v}"), ("UK_NHS", "NHS number {v}"),
    ("UK_NINO", "Parent NI number {v}"), ("UK_POSTCODE", "Address: {street}, Oakfield {v}"),
    ("PHONE_NUMBER", "Contact telephone {v}"), ("EMAIL_ADDRESS", "Email {v}"),
    ("DATE_OF_BIRTH", "Date of birth: {v}"), ("PERSON", "Pupil: {v}"),
    ("UK_PASSPORT", "Passport number {v}"),
]
NAIVE_TYPES = {"DATE_TIME": "DATE_OF_BIRTH"}
# What a user scanning for UK identifiers would ask Presidio for.
UK_ENTITIES = ["UK_NHS", "UK_NINO", "UK_PASSPORT", "UK_POSTCODE", "PHONE_NUMBER",
               "EMAIL_ADDRESS", "DATE_TIME"]
SPACY_SMALL = "en_core_web_sm"


def build_corpus(target_mb: float, seed: int = 1):
    rng = random.Random(seed)
    pupils = make_pupils(400, seed=seed)
    docs = []  # (text, [(entity, start, end)])
    size = 0
    while size < target_mb * 1e6:
        p = rng.choice(pupils)
        values = {"UK_UPN": p.upn, "UK_ULN": p.uln, "UK_NHS": p.nhs, "UK_NINO": p.parent_nino,
                  "UK_POSTCODE": p.postcode, "PHONE_NUMBER": p.phone,
                  "EMAIL_ADDRESS": p.parent_email, "DATE_OF_BIRTH": p.dob.strftime("%d/%m/%Y"),
                  "PERSON": p.name, "UK_PASSPORT": f"{rng.randint(100000000, 999999999)}"}
        parts, planted, pos = [], [], 0
        n_sentences = rng.randint(30, 70)
        plant_at = set(rng.sample(range(n_sentences), k=min(n_sentences, rng.randint(3, 6))))
        for i in range(n_sentences):
            if i in plant_at:
                entity, tpl = rng.choice(TEMPLATES)
                before = tpl.split("{v}")[0].format(street=p.street)
                sentence = tpl.format(v=values[entity], street=p.street) + "."
                start = pos + len(before)
                planted.append((entity, start, start + len(values[entity])))
            else:
                sentence = rng.choice(PROSE).format(fn=p.forename)
            parts.append(sentence)
            pos += len(sentence) + 1
        text = " ".join(parts)
        docs.append((text, planted))
        size += len(text.encode())
    return docs, pupils


def recall(docs, detect):
    hit = total = 0
    per: dict[str, list[int]] = {}
    for text, planted in docs:
        spans = detect(text)
        for entity, s, e in planted:
            ok = any(t == entity and a < e and b > s for t, a, b in spans)
            hit += ok
            total += 1
            per.setdefault(entity, [0, 0])
            per[entity][0] += ok
            per[entity][1] += 1
    return hit / max(1, total), {k: v[0] / v[1] for k, v in per.items()}


def dataward_classifier(pupils):
    from dataward.classifiers.engine import Classifier
    from dataward.connectors.roster import Person, Roster
    roster = Roster([Person(p.name.casefold(), (p.name.casefold(),), "pupils") for p in pupils])
    return Classifier(os.urandom(32), roster)


def naive_engine():
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (NhsRecognizer, UkNinoRecognizer,
                                                          UkPassportRecognizer, UkPostcodeRecognizer)
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    for r in (NhsRecognizer(), UkNinoRecognizer(), UkPostcodeRecognizer(), UkPassportRecognizer()):
        registry.add_recognizer(r)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


def spacy_engine():
    """Presidio with spaCy's small English model, or None when it is not installed."""
    import spacy.util
    if not spacy.util.is_package(SPACY_SMALL):
        return None
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_SMALL}],
    }).create_engine()
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])


def throughput(docs, fn, runs):
    mb = sum(len(t.encode()) for t, _ in docs) / 1e6
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for text, _ in docs:
            fn(text)
        times.append(time.perf_counter() - t0)
    return mb, mb / statistics.median(times)


def bench_classifier(args):
    docs, pupils = build_corpus(args.mb)
    clf = dataward_classifier(pupils)
    naive = naive_engine()
    sample, acc = [], 0
    for d in docs:
        if acc >= 1e6:
            break
        sample.append(d)
        acc += len(d[0].encode())

    def dw_spans(text):
        return [(f.entity_type, f.offset, f.offset + 1) for f in clf.classify_text(text)]

    def naive_spans(text):
        return [(NAIVE_TYPES.get(r.entity_type, r.entity_type), r.start, r.end)
                for r in naive.analyze(text, language="en")]

    for text, _ in sample[:3]:  # warm both up (first calls load tables and caches)
        clf.classify_text(text)
        naive.analyze(text, language="en")
    dw_mb, dw_rate = throughput(docs, clf.classify_text, args.runs)
    # The ratio comes from runs interleaved on the same sample, so a busy machine slows
    # both sides alike.
    pairs = []
    for _ in range(args.runs):
        _, a = throughput(sample, clf.classify_text, 1)
        nv_mb, b = throughput(sample, lambda t: naive.analyze(t, language="en"), 1)
        pairs.append((a, b))
    sample_rate = statistics.median(a for a, _ in pairs)
    nv_rate = statistics.median(b for _, b in pairs)
    ratio = statistics.median(a / b for a, b in pairs)
    dw_recall, dw_per = recall(docs, dw_spans)
    nv_recall, nv_per = recall(sample, naive_spans)

    def uk_spans(text):
        return [(NAIVE_TYPES.get(r.entity_type, r.entity_type), r.start, r.end)
                for r in naive.analyze(text, language="en", entities=UK_ENTITIES)]

    _, uk_rate = throughput(sample, uk_spans, args.runs)
    uk_recall, uk_per = recall(sample, uk_spans)
    spacy = spacy_engine()
    if spacy is not None:
        def spacy_spans(text):
            return [(NAIVE_TYPES.get(r.entity_type, r.entity_type), r.start, r.end)
                    for r in spacy.analyze(text, language="en",
                                           entities=UK_ENTITIES + ["PERSON"])]
        _, sp_rate = throughput(sample, spacy_spans, 1)
        sp_recall, _ = recall(sample, spacy_spans)
    print(f"classifier corpus: {len(docs)} documents, {dw_mb:.1f} MB "
          f"(naive on a {nv_mb:.2f} MB sample); medians of {args.runs} runs")
    print(f"  dataward       {dw_rate:8.2f} MB/s on the whole corpus, recall {dw_recall:.3f}")
    print(f"  dataward       {sample_rate:8.2f} MB/s on the sample")
    print(f"  naive Presidio {nv_rate:8.2f} MB/s on the sample,  recall {nv_recall:.3f}")
    print(f"  ratio          {ratio:8.1f}x (median of interleaved runs on the sample)")
    print(f"  Presidio entities=[UK...] {uk_rate:8.2f} MB/s on the sample, recall {uk_recall:.3f}")
    if spacy is not None:
        print(f"  Presidio + {SPACY_SMALL} {sp_rate:8.2f} MB/s on the sample, "
              f"recall {sp_recall:.3f} (one run)")
    else:
        print(f"  Presidio + {SPACY_SMALL}: not run, the model is not installed (it is not "
              "on PyPI; explosion publishes it on GitHub releases)")
    print("  recall by type (dataward / naive / entities=[UK...]): " + ", ".join(
        f"{k} {dw_per.get(k, 0):.2f}/{nv_per.get(k, 0):.2f}/{uk_per.get(k, 0):.2f}"
        for k in sorted(dw_per)))
    return docs, pupils


def _scan_cmd(home: Path, share: Path, full: bool) -> list[str]:
    code = (
        "import sys, time, resource; from pathlib import Path\n"
        "from dataward.settings import load_settings, Source\n"
        "from dataward.pipelines.scan import run_scan\n"
        f"s = load_settings(Path({str(home / 'c.yaml')!r}))\n"
        "t = time.perf_counter()\n"
        f"r = run_scan(s, full={full})\n"
        "print(time.perf_counter() - t, r.items, r.reused, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
    )
    return [sys.executable, "-c", code]


def run_scan_process(home: Path, share: Path, full: bool) -> tuple[float, int, int, int, int]:
    """(seconds, items, reused, peak RSS MB of the scanning process, of its largest worker)"""
    env = {**os.environ, "DATAWARD_HOME": str(home),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.run(_scan_cmd(home, share, full), env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"scan process failed:\n{proc.stderr[-3000:]}")
    out = proc.stdout.split()
    return float(out[0]), int(out[1]), int(out[2]), int(out[3]), int(out[4])


def bench_rescan(args, docs):
    tmp = Path(tempfile.mkdtemp(prefix="dw-bench-"))
    try:
        share = tmp / "share"
        rng = random.Random(2)
        for i in range(args.files):
            d = share / f"class{i % 100:02d}" / f"week{(i // 100) % 10}"
            if i % 1000 == 0 or not d.exists():
                d.mkdir(parents=True, exist_ok=True)
            (d / f"note{i}.txt").write_text(rng.choice(PROSE).format(fn="Sam") + "\n")
        home = tmp / "home"
        home.mkdir()
        (home / "c.yaml").write_text(f"sources:\n  - {{name: s, path: {share}}}\n")
        full_s, items, _, _, _ = run_scan_process(home, share, full=True)
        times, rss = [], 0
        for _ in range(args.runs):
            t, items2, reused, rss, _ = run_scan_process(home, share, full=False)
            assert reused == items2 == items, (items, items2, reused)
            times.append(t)
        floor = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            n = 0
            stack = [str(share)]
            while stack:
                with os.scandir(stack.pop()) as it:
                    for e in it:
                        e.stat(follow_symlinks=False)
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        n += 1
            floor.append(time.perf_counter() - t0)
        print(f"unchanged rescan of {items} small files (first full scan {full_s:.1f} s):")
        print(f"  dataward incremental scan {statistics.median(times):6.2f} s  (peak {rss} MB)")
        print(f"  bare scandir+lstat walk   {statistics.median(floor):6.2f} s  (the floor)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_share(tmp: Path, docs) -> Path:
    """The corpus as files of a share folder under ``tmp``."""
    share = tmp / "share"
    share.mkdir()
    for i, (text, _) in enumerate(docs):
        (share / f"doc{i:05d}.txt").write_text(text)
    return share


def bench_memory(docs):
    tmp = Path(tempfile.mkdtemp(prefix="dw-bench-mem-"))
    try:
        share = write_share(tmp, docs)
        home = tmp / "home"
        home.mkdir()
        (home / "c.yaml").write_text(f"sources:\n  - {{name: s, path: {share}}}\n")
        secs, items, _, rss, worker_rss = run_scan_process(home, share, full=True)
        mb = sum(len(t.encode()) for t, _ in docs) / 1e6
        print(f"full scan of the corpus as {items} files ({mb:.1f} MB): {secs:.1f} s, "
              f"{mb / secs:.2f} MB/s end to end, peak memory {rss} MB "
              f"(largest worker {worker_rss} MB, mostly pages shared with the scanner)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _extract_all(fmt_data_name, extract, sniff, depth=0) -> str:
    """Text of an item and every item inside it, as the scan reads them."""
    data, name = fmt_data_name
    fmt = sniff(name, data[:8192], io.BytesIO(data))
    try:
        doc = extract(fmt, data)
    except Exception:  # noqa: BLE001 - the floor reads what it can, like the scan
        return ""
    parts = [doc.text]
    if depth < 5:
        parts += [_extract_all((m.data, m.name), extract, sniff, depth + 1)
                  for m in doc.children if m.data]
    return "\n".join(parts)


def bench_mixed(args):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from school_corpus import Corpus

    from dataward.classifiers.extractors import extract
    from dataward.classifiers.sniff import sniff

    tmp = Path(tempfile.mkdtemp(prefix="dw-bench-mixed-"))
    try:
        corpus = Corpus(tmp, seed=3).build(args.scale)
        rosters = corpus.rosters()
        files = sorted(p for p in (tmp / "share").rglob("*") if p.is_file())
        blobs = [(p.read_bytes(), p.name) for p in files]
        mb = sum(len(b) for b, _ in blobs) / 1e6
        floor, peer = [], []
        naive = naive_engine()
        for _ in range(args.runs):
            t0 = time.perf_counter()
            texts = [_extract_all(b, extract, sniff) for b in blobs]
            floor.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for b in blobs:
                naive.analyze(_extract_all(b, extract, sniff), language="en",
                              entities=UK_ENTITIES)
            peer.append(time.perf_counter() - t0)
        text_mb = sum(len(t.encode()) for t in texts) / 1e6
        rates = {}
        for workers in (1, 2):
            home = tmp / f"home{workers}"
            home.mkdir()
            roster_yaml = "".join(f"  - {{path: {p}, kind: {k}}}\n" for p, k in rosters)
            (home / "c.yaml").write_text(
                f"sources:\n  - {{name: s, path: {tmp / 'share'}}}\nrosters:\n{roster_yaml}"
                f"school: {{domains: [oakfield.sch.uk]}}\nscan: {{workers: {workers}}}\n")
            secs = [run_scan_process(home, tmp / "share", full=True)[0] for _ in range(args.runs)]
            rates[workers] = mb / statistics.median(secs)
        print(f"mixed share: {len(files)} files, {mb:.1f} MB on disk, {text_mb:.2f} MB of text "
              f"(docx, xlsx, csv, txt, jpeg, an mbox with attachments); medians of {args.runs} runs")
        print(f"  extraction floor (same readers, no classification) {mb / statistics.median(floor):7.2f} MB/s")
        print(f"  extraction + Presidio entities=[UK...]              {mb / statistics.median(peer):7.2f} MB/s")
        print(f"  dataward end to end, 1 worker                       {rates[1]:7.2f} MB/s")
        print(f"  dataward end to end, 2 workers                      {rates[2]:7.2f} MB/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale", type=int, default=8, help="size of the mixed share")
    ap.add_argument("--skip", choices=["classifier", "mixed", "rescan", "memory"], action="append",
                    default=[])
    args = ap.parse_args()
    docs = None
    if "classifier" not in args.skip:
        docs, _ = bench_classifier(args)
    if "mixed" not in args.skip:
        bench_mixed(args)
    if "memory" not in args.skip:
        bench_memory(docs or build_corpus(args.mb)[0])
    if "rescan" not in args.skip:
        bench_rescan(args, docs)


if __name__ == "__main__":
    main()
