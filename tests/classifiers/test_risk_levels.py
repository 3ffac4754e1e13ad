"""Risk levels a DPO would agree with, from real documents scanned with the defaults.

A named pupil's medical note holding an NHS number and a date of birth is special-category
data (UK GDPR art. 9) about an identified child: a DPO calls its exposure high wherever it
sits, and worse where pupils can open it. The old default weights made it "medium"."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

LEVELS = ["none", "low", "medium", "high", "critical"]


def _note(path: Path, condition: str) -> None:
    import docx
    d = docx.Document()
    d.add_heading("Note for the class teacher", 1)
    d.add_paragraph("Pupil: Amelia Khan, Year 4. Date of birth: 12/03/2014. "
                    "NHS number: 943 476 5919.")
    d.add_paragraph(condition)
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(path)


@pytest.fixture
def scanned(dw_home: Path, tmp_path: Path, cli) -> pd.DataFrame:
    share = tmp_path / "share"
    for area in ("office", "staff", "pupils"):
        _note(share / area / "one term.docx", "She has asthma.")
        _note(share / area / "medical note.docx",
              "Condition: asthma. A reliever inhaler is kept in the school office.")
    (tmp_path / "pupils.csv").write_text("Forename,Surname\nAmelia,Khan\n")
    (dw_home / "dataward.yaml").write_text(
        "school: {name: Test School}\n"
        f"rosters: [{{path: {tmp_path / 'pupils.csv'}}}]\n"
        "sources:\n"
        f"  - {{name: office, path: {share / 'office'}, audience: admin}}\n"
        f"  - {{name: staff, path: {share / 'staff'}, audience: staff}}\n"
        f"  - {{name: pupils, path: {share / 'pupils'}, audience: pupils}}\n")
    r = cli("scan")
    assert r.exit_code == 0, r.output
    scan_dir = max((dw_home / "scans").iterdir(), key=lambda p: p.stat().st_mtime)
    return pd.read_parquet(scan_dir / "items.parquet").set_index("path")


def test_a_named_pupils_medical_note_is_high_or_above_wherever_it_sits(scanned):
    for path, row in scanned.iterrows():
        # What the scan found is what the note holds (the weights are the question).
        assert (row.n_person, row.n_uk_nhs, row.n_date_of_birth) == (1, 1, 1), path
        assert row.n_special_category >= 1 and row.special_category, path
        assert LEVELS.index(row.risk_level) >= LEVELS.index("high"), (path, row.risk_score)
    # Where pupils can open it, it is worse than in the office.
    office = scanned[scanned.audience == "admin"].risk_score.max()
    assert scanned[scanned.audience == "pupils"].risk_score.min() > office
