"""A school's shares split into parts, so one large school does not hold up the rest.

A share is split by its top-level entries: each folder (or file) at the top of the share
goes to part ``crc32(name) mod parts_per_share``. The assignment depends only on the name,
so a part keeps the same folders from night to night and its incremental catalog (the
newest scan that recorded it) stays valid; a new folder joins one part without moving
the others. A part is an ordinary source named ``<share>.part<k>of<n>`` whose include
patterns name its top-level entries. A share that cannot be listed (unmounted, missing)
is still given its parts: each one is then reported unavailable by the scan itself.
Mail exports and sources with their own include patterns are not split.
"""
from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass

from ..settings import Settings, Source


@dataclass(frozen=True)
class Part:
    """One unit of a trust scan: some of one school's sources."""

    school_id: str
    name: str            # the part's source name (the share's name when not split)
    share: str           # the configured source it comes from


def _pattern(name: str) -> str:
    """A gitignore pattern matching exactly the top-level entry ``name`` (and below it)."""
    escaped = re.sub(r"([\\*?\[\]!#])", r"\\\1", name)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return "/" + escaped


def part_name(share: str, k: int, n: int) -> str:
    return f"{share}.part{k + 1}of{n}"


def split_source(source: Source, n: int) -> list[Source]:
    """The parts of one source (itself when it is not split)."""
    if n <= 1 or source.kind != "share" or source.include != ["**"]:
        return [source]
    buckets: list[list[str]] = [[] for _ in range(n)]
    try:
        names = sorted(os.listdir(source.path))
    except OSError:
        names = []          # the scan says why the share cannot be read
    for name in names:
        buckets[zlib.crc32(name.encode("utf-8", "surrogateescape")) % n].append(name)
    return [source.model_copy(update={"name": part_name(source.name, k, n),
                                      "include": [_pattern(x) for x in bucket]})
            for k, bucket in enumerate(buckets)]


def school_parts(settings: Settings, n: int) -> list[tuple[Part, Source]]:
    """Every part of a school's configured sources, with the source that scans it."""
    out = []
    for source in settings.sources:
        for piece in split_source(source, n):
            out.append((Part(settings.school.id, piece.name, source.name), piece))
    return out


def batches(parts: list[Part], slots: int) -> list[list[Part]]:
    """Parts grouped into tasks for ``slots`` workers, largest first (guided scheduling).

    Every task carries a fixed cost (Prefect's task-run bookkeeping, the school's
    settings and ledger): one task per part made that cost 40-55% of a night of small
    parts. Each batch takes ``ceil(remaining / (2 x slots))`` parts, so the first batches
    are large (few tasks, little fixed cost) and the last ones are single parts (a worker
    that finishes early finds small work left, so the workers finish together). Sixty
    parts on two workers make 12 tasks; on one worker, 6. Order is kept: parts arrive
    interleaved across schools, so every school starts early."""
    slots = max(1, slots)
    out, i = [], 0
    while i < len(parts):
        size = max(1, -(-(len(parts) - i) // (2 * slots)))
        out.append(parts[i:i + size])
        i += size
    return out
