"""Third-party sample files the tests read: ``tests/data/samples`` in this repository.

Each file was written by another project (mail exports, encrypted archives, EXIF photos,
nwipe logs, published identifier test cases); ``tests/data/samples/SOURCES.md`` names its
origin, commit and licence. They live in the repository so that a fresh clone passes
``make test`` with nothing from outside it."""
from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"
if not (SAMPLES / "SOURCES.md").is_file():  # pragma: no cover - a broken checkout
    raise RuntimeError(f"test sample files missing: {SAMPLES} (part of the repository)")
