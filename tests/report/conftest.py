"""A school share scanned twice by the real scan (with a change, an addition and a
deletion in between), for the report and subject-search tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pipelines.conftest import PUPIL, RAW_VALUES, line, make_roster, make_share

# The same pupil written in the other ways documents write her.
MORE_RAW = RAW_VALUES + ["Khan, Amelia", "U820200014013".lower(), "2014-03-12"]


@dataclass
class Scanned:
    settings: object
    share: Path
    first: str      # scan ids
    second: str
    added: Path
    changed: Path
    removed: Path
    corrupt: Path


def configure(tmp_path: Path, share: Path, roster: Path):
    from dataward.settings import load_settings
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text(
        "school: {name: Oakfield Test School}\n"
        "sources:\n"
        f"  - {{name: staff, path: {share / 'staff'}, audience: staff}}\n"
        f"  - {{name: pupils, path: {share / 'pupils'}, audience: pupils}}\n"
        f"rosters:\n  - {{path: {roster}, kind: pupils}}\n", encoding="utf-8")
    return load_settings(cfg)


@pytest.fixture
def scanned(dw_home: Path, tmp_path: Path) -> Scanned:
    from dataward.pipelines.scan import run_scan
    share, roster = make_share(tmp_path), make_roster(tmp_path)
    settings = configure(tmp_path, share, roster)
    removed = share / "staff" / "old list.txt"
    removed.write_text(f"Pupil {PUPIL['forename']} {PUPIL['surname']} UPN {PUPIL['upn']}\n")
    first = run_scan(settings).scan_id
    # Overnight: a medical note lands in the pupils' area, a file changes, one is deleted,
    # and a damaged Word file appears.
    added = share / "pupils" / "Trip" / "medical notes.txt"
    added.parent.mkdir()
    added.write_text(f"{line()}\nMedical: asthma, inhaler kept in the office. EHCP in place.\n")
    changed = share / "staff" / "note.txt"
    changed.write_text(line() + "\nUpdated after the review meeting.\n")
    removed.unlink()
    corrupt = share / "staff" / "broken.docx"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a Word file")
    second = run_scan(settings).scan_id
    return Scanned(settings, share, first, second, added, changed, removed, corrupt)
