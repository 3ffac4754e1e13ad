"""The jobs as plain Python: each takes settings and a progress callback and returns a
typed result. Nothing here imports Prefect.

Submodules are imported where they are used: ``import dataward.backup`` must not
pay for the scan's classifier stack."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .classify import FileClassification, classify_files

__all__ = ["FileClassification", "classify_files"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import classify
        return getattr(classify, name)
    raise AttributeError(name)
