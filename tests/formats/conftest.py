"""Shared helpers for the format tests: a config with a roster, and a scan that returns
its items and findings keyed by path (relative to the scanned folder)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

# Real files written by other projects (tests/data/samples), for the format tests.
from tests.samples import SAMPLES as SAMPLES

UPN = "U820200014013"
LINE = ("Pupil Amelia Khan, UPN U820200014013, NHS 943 476 5919, "
        "tel 020 7946 0123, amelia.khan@example.co.uk")
RAW_VALUES = ["Amelia Khan", "U820200014013", "943 476 5919", "020 7946 0123",
              "amelia.khan@example.co.uk"]


@dataclass
class Scanned:
    result: object
    items: dict        # relative path -> row (a namedtuple)
    findings: object   # pandas DataFrame
    out_dir: Path

    def found(self, rel: str) -> list[str]:
        """Entity types found in the item at ``rel``."""
        loc = self.items[rel].locator
        return sorted(self.findings[self.findings.locator == loc].entity_type)


def make_settings(tmp_path: Path, scan: str = "") -> object:
    from dataward.settings import load_settings
    roster = tmp_path / "roster.csv"
    roster.write_text("Legal Forename,Legal Surname,UPN\nAmelia,Khan,U820200014013\n")
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text(f"rosters:\n  - {{path: {roster}, kind: pupils}}\n"
                   + (f"scan: {{{scan}}}\n" if scan else ""))
    return load_settings(cfg)


@pytest.fixture
def settings(dw_home, tmp_path):
    return make_settings(tmp_path, "workers: 2")


def run(settings, folder: Path, name: str = "share", adhoc: bool = True) -> Scanned:
    from dataward.pipelines.scan import run_scan
    from dataward.settings import Source
    result = run_scan(settings, sources=[Source(name=name, path=folder, audience="staff")],
                      adhoc=adhoc)
    items = pq.read_table(result.out_dir / "items.parquet").to_pandas()
    findings = pq.read_table(result.out_dir / "findings.parquet").to_pandas()
    prefix = str(folder) + "/"
    rows = {p[len(prefix):] if p.startswith(prefix) else p: r
            for p, r in zip(items.path, items.itertuples())}
    return Scanned(result, rows, findings, result.out_dir)


def assert_no_raw_values(out_dir: Path, values=RAW_VALUES) -> None:
    for f in out_dir.iterdir():
        # Binary columns (the keyed name index) are searched as bytes read as Latin-1.
        table = pq.read_table(f).to_pandas().map(
            lambda v: v.decode("latin-1") if isinstance(v, bytes) else v).astype(str)
        text = "\n".join("\t".join(row) for row in table.itertuples(index=False))
        for v in values:
            assert v not in text, f"{v!r} written to {f.name}"
