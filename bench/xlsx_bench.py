"""Dense MIS export as a workbook (.xlsx): how fast dataward reads its cells, beside the
peer, openpyxl's own streaming reader as its users run it for values
(``load_workbook(read_only=True, data_only=True)``, ``iter_rows(values_only=True)``),
which is also the way dataward read workbooks before calamine. Prints medians of --runs,
process CPU seconds and wall seconds:

1. cells only: calamine through dataward's reader (``office._fast_rows``, values as
   openpyxl gives them) against openpyxl's streaming reader;
2. the whole extraction (``extract("xlsx")``: cells, comments, headers, shapes) with
   calamine and with openpyxl's reader forced;
3. classification of that text (the same for both: the text is the same, which is
   checked here too), so the share of the reading in an item's time shows.

    python bench/xlsx_bench.py [--rows 20000] [--runs 3]
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.dense_export import dense_csv  # noqa: E402 - found through sys.path above


def workbook(rows: int) -> bytes:
    import openpyxl
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Export")
    for line in dense_csv(rows).text.splitlines():
        sheet.append(line.split(","))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def timed(fn) -> tuple[float, float, object]:
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - cpu, time.perf_counter() - wall, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    import openpyxl

    from dataward.classifiers.engine import Classifier
    from dataward.classifiers.extractors import extract, office

    data = workbook(args.rows)
    print(f"workbook: {args.rows:,} pupils, {len(data) / 1e6:.1f} MB")

    def peer_cells() -> int:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        n = sum(len(r) for s in book.worksheets for r in s.iter_rows(values_only=True))
        book.close()
        return n

    def fast_cells() -> int:
        rows = office._fast_rows(data)
        assert rows is not None
        return sum(len(r) for r in rows("Export") or ())

    real = office._fast_rows

    def extract_with(fast: bool):
        office._fast_rows = real if fast else (lambda _data: None)
        try:
            return extract("xlsx", data)
        finally:
            office._fast_rows = real

    results: dict[str, list[tuple[float, float]]] = {}
    texts = {}
    classifier = Classifier(bytes(32))
    for _ in range(args.runs):
        for name, fn in (("cells: openpyxl (peer)", peer_cells), ("cells: dataward", fast_cells),
                         ("extract: openpyxl reader", lambda: extract_with(False)),
                         ("extract: dataward", lambda: extract_with(True))):
            cpu, wall, out = timed(fn)
            results.setdefault(name, []).append((cpu, wall))
            if name.startswith("extract"):
                texts[name] = (out.text, [(c.header, c.values) for c in out.columns])  # type: ignore[attr-defined]
        cpu, wall, findings = timed(lambda: classifier.classify(extract_with(True)))
        results.setdefault("extract + classify: dataward", []).append((cpu, wall))
    same = texts["extract: openpyxl reader"] == texts["extract: dataward"]
    print(f"the same text from both readers: {same}; findings: {len(findings)}")  # type: ignore[arg-type]
    print(f"{'':32} {'CPU s':>7} {'wall s':>7}")
    for name, runs in results.items():
        print(f"{name:32} {statistics.median(c for c, _ in runs):>7.2f} "
              f"{statistics.median(w for _, w in runs):>7.2f}")
    peer = statistics.median(c for c, _ in results["cells: openpyxl (peer)"])
    ours = statistics.median(c for c, _ in results["cells: dataward"])
    print(f"cells: dataward {peer / ours:.1f}x faster than openpyxl's reader (CPU)")


if __name__ == "__main__":
    main()
