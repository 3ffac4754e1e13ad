"""The newest revision, read from ``versions/`` without importing Alembic.

Opening a ledger that is already up to date is what nearly every command does; importing
Alembic to learn that costs more than the rest of a quick command (``dataward backup
run`` with nothing changed). This reads each revision file's ``revision`` and
``down_revision`` lines. It answers only when every file yields both and they form a
single chain; anything else (an unusual file, two heads) returns None and the caller asks
Alembic (``runner.head``), which stays the authority.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

VERSIONS = Path(__file__).parent / "versions"
_REVISION = re.compile(r'^revision(?:\s*:\s*str)?\s*=\s*["\']([^"\']+)["\']\s*$', re.MULTILINE)
_DOWN = re.compile(
    r'^down_revision(?:\s*:\s*[^=]+)?\s*=\s*(?:None|["\']([^"\']+)["\'])\s*$', re.MULTILINE)


@lru_cache(maxsize=1)
def quick_head(versions: Path = VERSIONS) -> str | None:
    revisions: dict[str, str | None] = {}
    for path in sorted(versions.glob("*.py")):
        if path.name.startswith("_"):
            continue
        text = path.read_text(encoding="utf-8")
        rev, down = _REVISION.findall(text), _DOWN.findall(text)
        if len(rev) != 1 or len(down) != 1:
            return None
        revisions[rev[0]] = down[0] or None
    parents = set(revisions.values())
    heads = [r for r in revisions if r not in parents]
    if len(heads) != 1 or sum(1 for d in revisions.values() if d is None) != 1:
        return None
    return heads[0]

