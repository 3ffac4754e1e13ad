"""Where the shared sample files are: ../shared/samples beside the repository (as CI lays
it out), else $DATAWARD_SAMPLES. Tests that read them fail loudly when neither exists."""
from __future__ import annotations

import os
from pathlib import Path


def _find() -> Path:
    candidates = [Path(__file__).resolve().parents[2] / "shared" / "samples"]
    if os.environ.get("DATAWARD_SAMPLES"):
        candidates.insert(0, Path(os.environ["DATAWARD_SAMPLES"]))
    candidates.append(Path("/work/shared/samples"))
    for c in candidates:
        if (c / "SOURCES.md").is_file():
            return c
    raise RuntimeError("shared sample files not found: put shared/samples beside the "
                       "repository or set DATAWARD_SAMPLES")


SAMPLES = _find()
