"""Scanning a trust: prepare each school once, then scan its parts anywhere.

``prepare_school`` runs once per school before any part is scanned (its state folder, its
fingerprint key, the ledger's schema): parts of one school scanned at once on different
workers must not race to create the key. ``scan_parts`` is what a Dask worker runs for a
batch: for each part, an ordinary incremental scan under the school's id in the shared
ledger (the school's settings and ledger opened once per batch), then the part's rows
written into the trust's dataset. A part
killed half way leaves its scan row ``running`` and its outputs in a hidden work folder;
it is simply scanned again, and only the scan that completes is returned, so each part is
counted once. A part whose share cannot be read comes back ``partial`` with the reason,
keeping its last results (as any scan treats an unavailable source).
"""
from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..home import ensure_home, fingerprint_key
from ..ledger import Ledger
from ..pipelines import worker_host
from ..pipelines.scan import run_scan
from ..settings import Settings, Source
from .config import Trust
from .outcome import PartSummary
from .parts import Part, school_parts
from .results import write_part

# A worker process scans night after night, a batch of parts of many schools at a time:
# each school's settings are read once per process (again when its config or the trust
# file changes), and the trust's ledger is one engine, one connection pool, for every
# school (each school's rows kept apart by ``Ledger.for_school``).
_SETTINGS: dict[tuple[str, ...], Settings] = {}
_LEDGERS: dict[str, Ledger] = {}


def _stamp(path: Path | None) -> str:
    try:
        return f"{path}@{path.stat().st_mtime_ns}" if path else ""
    except OSError:
        return f"{path}@missing"


def school_settings(trust: Trust, school_id: str) -> Settings:
    """The school's settings (a fresh copy each call: a scan may change its own)."""
    key = (_stamp(trust.config_path), school_id, _stamp(trust.school(school_id).config))
    if key not in _SETTINGS:
        _SETTINGS[key] = trust.school_settings(school_id)
    return _SETTINGS[key].model_copy(deep=True)


def school_ledger(settings: Settings) -> Ledger:
    """The trust's ledger as this school sees it, on the process's one engine."""
    url = settings.ledger_url
    if url not in _LEDGERS:
        _LEDGERS[url] = Ledger(url)       # brings the schema up once per process
    return _LEDGERS[url].for_school(settings.school.id)


def prepare_school(trust: Trust, school_id: str) -> list[Part]:
    """Make the school's folder and key (once), bring the ledger up; return its parts."""
    settings = school_settings(trust, school_id)
    ensure_home(settings)
    fingerprint_key(settings, create=True)
    school_ledger(settings)
    return [part for part, _ in school_parts(settings, trust.parts_per_share)]


def scan_part(trust: Trust, part: Part) -> PartSummary:
    """Scan one part of one school (incremental against that part's own catalog)."""
    done, failed = scan_parts(trust, [part])
    if failed:
        raise failed[0][1]
    return done[0]


def scan_parts(trust: Trust, parts: list[Part]) -> tuple[list[PartSummary],
                                                         list[tuple[Part, Exception]]]:
    """Scan several parts in turn (one task's batch), each written into the trust's
    dataset as soon as its scan completes. A part whose scan or write raises is handed
    back with its error and the others go on: the flow scans it again in its next round."""
    done: list[PartSummary] = []
    failed: list[tuple[Part, Exception]] = []
    schools: dict[str, tuple[Settings, dict[str, Source]]] = {}
    for part in parts:
        try:
            if part.school_id not in schools:
                settings = school_settings(trust, part.school_id)
                settings.scan.workers = trust.item_workers
                pieces = {p.name: s for p, s in school_parts(settings, trust.parts_per_share)}
                schools[part.school_id] = (settings, pieces)
            settings, pieces = schools[part.school_id]
            summary = _scan_one(settings, pieces[part.name], school_ledger(settings), part)
            started = time.perf_counter()
            write_part(trust, summary)      # here, not in the flow: written side by side
            done.append(replace(summary, write_seconds=round(time.perf_counter() - started, 3)))
        except Exception as exc:  # noqa: BLE001 - named in the result, scanned again
            failed.append((part, exc))
    return done, failed


def _reaped_cpu() -> float:
    """CPU seconds of this process's ended and reaped children (a scan's item readers
    end with the scan), and of the item readers a kept worker host reaped (on a Dask
    worker, which runs threads, they are forked and reaped by its worker host)."""
    t = os.times()
    return t.children_user + t.children_system + worker_host.kept_readers_cpu()


def _scan_one(settings: Settings, source: Source, ledger: Ledger, part: Part) -> PartSummary:
    settings = settings.model_copy(update={"sources": [source]})
    started, cpu, readers = time.perf_counter(), time.thread_time(), _reaped_cpu()
    result = run_scan(settings, sources=[source], ledger=ledger)
    call_seconds = round(time.perf_counter() - started, 3)
    call_cpu, reader_cpu = time.thread_time() - cpu, _reaped_cpu() - readers
    return PartSummary(
        school_id=part.school_id, part=part.name, share=part.share, scan_id=result.scan_id,
        status=result.status, out_dir=str(Path(result.out_dir)), items=result.items,
        items_with_findings=result.items_with_findings, findings=result.findings,
        errors=result.errors, read=result.read, reused=result.reused, seconds=result.seconds,
        call_seconds=call_seconds, call_cpu=round(call_cpu, 3), reader_cpu=round(reader_cpu, 3),
        worker=f"{socket.gethostname()}:{os.getpid()}", unavailable=dict(result.unavailable),
        preloaded=_preloaded())


def _preloaded() -> bool:
    """True in a Dask worker started with the trust's preload, once it has run."""
    module = sys.modules.get("dataward.flows.trust_worker")
    return bool(getattr(module, "WARM", False))
