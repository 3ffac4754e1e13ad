"""The retention schedule: the shipped default loads, and a broken one says where."""
from __future__ import annotations

from pathlib import Path

import pytest

from dataward.errors import ConfigError
from dataward.retention.schedule import load_rules


def test_the_shipped_schedule_loads_and_matches_the_config_copy():
    rules = load_rules()
    assert rules.pupil_images.days_after_leaving == 30
    assert rules.pupil_images.keeping_consents == ["archive", "publication"]
    shipped = Path(__file__).parents[2] / "config" / "retention-schedule.yaml"
    assert load_rules(shipped) == rules


def test_legal_hold_folders_are_relative_to_the_schedule_file(tmp_path: Path):
    f = tmp_path / "schedule.yaml"
    f.write_text("legal_holds:\n  - folder: trips/2019\n    reason: claim\n    until: 2026-09-01\n")
    hold = load_rules(f).legal_holds[0]
    assert hold.folder == tmp_path / "trips" / "2019"


@pytest.mark.parametrize("text,where", [
    ("pupil_images:\n  days_after_leavng: 30\n", "pupil_images.days_after_leavng: unknown key"),
    ("pupil_images:\n  days_after_leaving: -1\n", "pupil_images.days_after_leaving"),
    ("legal_holds:\n  - upn: A1\n    folder: /x\n    reason: r\n", "exactly one of"),
    ("legal_holds:\n  - upn: A1\n", "legal_holds.0.reason"),
    ("pupil_images: [\n", "not valid YAML at line"),
])
def test_a_broken_schedule_names_the_key(tmp_path: Path, text: str, where: str):
    f = tmp_path / "schedule.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match="retention schedule") as err:
        load_rules(f)
    assert where in str(err.value)
