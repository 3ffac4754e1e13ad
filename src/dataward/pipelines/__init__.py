"""The jobs as plain Python: each takes settings and a progress callback and returns a
typed result. Nothing here imports Prefect."""

from .classify import FileClassification, classify_files

__all__ = ["FileClassification", "classify_files"]
