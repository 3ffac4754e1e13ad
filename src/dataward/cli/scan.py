"""`dataward scan` and `dataward scans`."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
