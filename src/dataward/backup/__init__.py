"""Encrypted, deduplicated, immutable off-site backups (docs/backup.md).

The jobs (``service``) take settings and return typed results; the repository format
lives in ``format``/``repository``, keys in ``crypto``/``keys``, retention in ``policy``.
"""
from __future__ import annotations

from .policy import Decision, Policy, Snap, apply_policy

__all__ = ["Decision", "Policy", "Snap", "apply_policy"]
