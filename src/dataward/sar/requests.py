"""Subject access requests in the ledger: open, list, find.

What identifies the person is kept only as fingerprints (HMAC-SHA256 under the school's
key, the same as the scans' findings) and a masked name: the values the DPO typed are
fingerprinted in memory and never written. ``find`` searches the latest scan (which
holds each source's latest results) with the stored fingerprints."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Row, insert, select

from ..classifiers.fingerprint import Fingerprinter, mask
from ..errors import NotFoundError, UsageError
from ..home import fingerprint_key
from ..ledger import Ledger, current_user, utcnow
from ..pipelines.approval import person_named
from ..pipelines.subject import SubjectHit, SubjectQuery, fingerprints, search_scan
from ..schema import sar_requests
from ..settings import Settings
from .deadline import due_date


@dataclass(frozen=True)
class SarRequest:
    sar_id: str
    received: str
    due: str
    subject: str              # masked
    status: str
    opened_by: str
    fingerprints: dict[str, str]
    package_id: str | None = None

    def days_left(self, today: date | None = None) -> int:
        return (date.fromisoformat(self.due) - (today or date.today())).days


@dataclass(frozen=True)
class SarFound:
    request: SarRequest
    scan_id: str
    hits: list[SubjectHit]


def open_request(settings: Settings, ledger: Ledger, query: SubjectQuery, *, received: date,
                 by: str, due: date | None = None, today: date | None = None) -> tuple[SarRequest, list[str]]:
    """Record a request received on ``received``; returns it and warnings about values
    the scans could never match."""
    by = person_named(by, "recording the request")
    if received > (today or date.today()):
        raise UsageError("--received is in the future")
    fps, warnings = fingerprints(query, Fingerprinter(fingerprint_key(settings)))
    subject = mask("PERSON", query.name) if query.name else "(no name given)"
    req = SarRequest(f"sar-{secrets.token_hex(4)}", received.isoformat(),
                     (due or due_date(received)).isoformat(), subject, "open", by, fps)
    with ledger.begin() as conn:
        conn.execute(insert(sar_requests).values(
            sar_id=req.sar_id, opened_at=utcnow(), opened_by=req.opened_by, os_user=current_user(),
            received=req.received, due=req.due, subject=req.subject,
            fingerprints=json.dumps(fps, sort_keys=True), status="open"))
        ledger.audit("sar.open", req.sar_id, conn=conn, by=req.opened_by, received=req.received,
                     due=req.due, searched=query.given())
    return req, warnings


def _from_row(r: Row[Any]) -> SarRequest:
    return SarRequest(r.sar_id, r.received, r.due, r.subject, r.status, r.opened_by,
                      json.loads(r.fingerprints), r.package_id)


def list_requests(ledger: Ledger, *, all_requests: bool = False) -> list[SarRequest]:
    q = select(sar_requests).order_by(sar_requests.c.due)
    if not all_requests:
        q = q.where(sar_requests.c.status == "open")
    with ledger.engine.connect() as conn:
        return [_from_row(r) for r in conn.execute(q)]


def get_request(ledger: Ledger, sar_id: str) -> SarRequest:
    with ledger.engine.connect() as conn:
        r = conn.execute(select(sar_requests).where(sar_requests.c.sar_id == sar_id)).first()
    if r is None:
        raise NotFoundError(f"no subject access request {sar_id}", hint="see `dataward sar list`")
    return _from_row(r)


def find_request(ledger: Ledger, sar_id: str) -> SarFound:
    """Every item of the latest scan holding any of the person's fingerprints."""
    req = get_request(ledger, sar_id)
    row = ledger.get_scan("latest")
    hits = search_scan(row.scan_id, Path(row.out_dir), req.fingerprints)
    ledger.audit("sar.find", sar_id, scan_id=row.scan_id, items=len(hits))
    return SarFound(req, row.scan_id, hits)


def close_request(ledger: Ledger, sar_id: str, *, by: str) -> None:
    by = person_named(by, "closing the request")
    req = get_request(ledger, sar_id)
    if req.status != "open":
        raise UsageError(f"request {sar_id} is already closed")
    with ledger.begin() as conn:
        conn.execute(sar_requests.update().where(sar_requests.c.sar_id == sar_id)
                     .values(status="closed", closed_at=utcnow()))
        ledger.audit("sar.close", sar_id, conn=conn, by=by)
