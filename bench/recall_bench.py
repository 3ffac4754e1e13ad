"""Recall and precision of a scan on a labelled school share with a mail export.

    python bench/recall_bench.py [--scale 1] [--workers 2] [--seed 11]

The corpus is made by ``bench/school_corpus.py`` (python-docx, openpyxl, email/mailbox,
Pillow) with every planted value counted per item. The scan is dataward's own
``run_scan`` with the corpus's rosters. Reported:
- item-level precision, recall and F1: an item "holds personal data" when anything was
  planted in it, and is "flagged" when the scan found anything in it;
- per entity type, occurrence precision and recall: per item, found and planted counts
  are matched (min of the two is true, the excess of found is false, the shortfall is
  missed).
Targets from issue 14: item-level F1 >= 0.98, occurrence precision >= 0.95 per type.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

from school_corpus import Corpus  # noqa: E402 - found through sys.path above


def run(scale: int, workers: int, seed: int, root: Path) -> dict:
    import pyarrow.parquet as pq
    import yaml

    from dataward.pipelines.scan import run_scan
    from dataward.settings import Source, load_settings

    corpus = Corpus(root, seed=seed).build(scale)
    rosters = corpus.rosters()
    cfg = root / "dataward.yaml"
    cfg.write_text(yaml.safe_dump({
        "state_dir": str(root / "state"), "school": {"domains": ["oakfield.sch.uk"]},
        "rosters": [{"path": str(p), "kind": k} for p, k in rosters],
        "scan": {"workers": workers}}))
    settings = load_settings(cfg)
    result = run_scan(settings, sources=[Source(name="share", path=root / "share",
                                                audience="staff")], adhoc=True)
    items = pq.read_table(result.out_dir / "items.parquet").to_pandas()
    findings = pq.read_table(result.out_dir / "findings.parquet").to_pandas()
    prefix = f"file://{root}/"

    def rel(locator: str) -> str:
        return unquote(locator).removeprefix(prefix)

    found: dict[str, Counter] = {rel(loc): Counter() for loc in items.locator}
    for loc, entity in zip(findings.locator, findings.entity_type):
        found[rel(loc)][entity] += 1
    return score(corpus.labels, found, items.status.value_counts().to_dict())


def score(labels: dict[str, Counter], found: dict[str, Counter], statuses: dict) -> dict:
    tp = fp = fn = 0
    diff: dict[str, tuple[Counter, Counter]] = {}
    per: dict[str, list[int]] = {}
    unlabelled = sorted(set(found) - set(labels))
    missing = sorted(set(labels) - set(found))
    for loc in sorted(set(labels) | set(found)):
        planted, got = labels.get(loc, Counter()), found.get(loc, Counter())
        has, flagged = bool(+planted), bool(+got)
        tp += has and flagged
        fp += flagged and not has
        fn += has and not flagged
        if planted != got:
            diff[loc] = (planted, got)
        for entity in set(planted) | set(got):
            t = per.setdefault(entity, [0, 0, 0])
            t[0] += min(planted[entity], got[entity])
            t[1] += max(0, got[entity] - planted[entity])
            t[2] += max(0, planted[entity] - got[entity])
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    return {"items": len(set(labels) | set(found)), "tp": tp, "fp": fp, "fn": fn,
            "precision": precision, "recall": recall,
            "f1": 2 * precision * recall / max(1e-9, precision + recall),
            "per_type": per, "diff": diff, "unlabelled": unlabelled, "missing": missing, "statuses": statuses}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--show", action="store_true", help="print every item whose counts differ")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dw-recall-") as tmp:
        r = run(args.scale, args.workers, args.seed, Path(tmp))
    print(f"labelled share + mail: {r['items']} items, statuses {r['statuses']}")
    print(f"item level: precision {r['precision']:.3f}  recall {r['recall']:.3f}  "
          f"F1 {r['f1']:.3f}  (tp {r['tp']}, fp {r['fp']}, fn {r['fn']})")
    print(f"{'entity':18} {'planted':>8} {'found':>8} {'precision':>10} {'recall':>8}")
    for entity, (t, f, m) in sorted(r["per_type"].items()):
        print(f"{entity:18} {t + m:8d} {t + f:8d} {t / max(1, t + f):10.3f} {t / max(1, t + m):8.3f}")
    if r["unlabelled"] or r["missing"]:
        print(f"items without labels: {r['unlabelled'][:5]}; labelled but not scanned: "
              f"{r['missing'][:5]}")
    if "--show" in sys.argv:
        for loc, (planted, got) in sorted(r["diff"].items()):
            print(f"  {loc}: planted {dict(planted)} found {dict(got)}")


if __name__ == "__main__":
    main()
