"""Check a disposal certificate: its signature, and that it matches the register and
the audit log.

A certificate passes only if (1) its detached signature is good and made by the key
the register recorded, (2) its SHA-256 is the one the register holds for that
disposal, (3) the register's copy of the certificate still hashes to that value and
agrees with the asset row, and (4) the audit record written with the disposal names
the same hashes and the audit chain is intact.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from ..errors import IntegrityError, NotFoundError
from ..ledger import Ledger
from ..schema import audit_table
from ..settings import Settings
from .signing import verify_detached
from .tables import assets_table, disposals_table


@dataclass(frozen=True)
class VerifyReport:
    certificate_id: str
    tag: str
    files: list[str]
    signer: str
    checks: list[str] = field(default_factory=list)


def _row_for(ledger: Ledger, digest: str, cert_id: str | None) -> Any:
    with ledger.engine.connect() as conn:
        row = conn.execute(select(disposals_table).where(or_(
            disposals_table.c.json_sha256 == digest,
            disposals_table.c.pdf_sha256 == digest))).first()
        if row is None and cert_id:
            known = conn.execute(select(disposals_table.c.disposal_id).where(
                disposals_table.c.disposal_id == cert_id)).first()
            if known:
                raise IntegrityError(f"certificate {cert_id} differs from the register's "
                                     "copy; it was altered after it was recorded")
    if row is None:
        raise IntegrityError("this certificate is not in the disposal register "
                             "(no disposal has its SHA-256)")
    return row


def _claimed_id(path: Path) -> str | None:
    try:
        return str(json.loads(path.read_bytes())["certificate_id"])
    except (ValueError, KeyError, TypeError, OSError):
        return None


def _check_register(ledger: Ledger, r: Any, checks: list[str]) -> None:
    """``r`` is the asset_disposals row the certificate was matched to."""
    text = r.certificate.encode()
    if hashlib.sha256(text).hexdigest() != r.json_sha256:
        raise IntegrityError(f"the register's copy of certificate {r.disposal_id} was "
                             "edited (its hash no longer matches)")
    cert = json.loads(text)
    with ledger.engine.connect() as conn:
        asset = conn.execute(select(assets_table).where(
            assets_table.c.tag == r.tag)).first()
        audit = conn.execute(select(audit_table).where(
            audit_table.c.seq == r.audit_seq)).first()
    if asset is None or asset.status != "disposed":
        raise IntegrityError(f"asset {r.tag} is not marked disposed in the register")
    a = cert["asset"]
    for key in ("tag", "type", "make", "model", "serial"):
        if a[key] != getattr(asset, key):
            raise IntegrityError(f"certificate {r.disposal_id}: asset {key} differs from "
                                 "the register")
    checks.append("certificate matches the register's disposal and asset records")
    details = json.loads(audit.details) if audit is not None else {}
    if (audit is None or audit.action != "assets.dispose"
            or details.get("json_sha256") != r.json_sha256
            or details.get("pdf_sha256") != r.pdf_sha256):
        raise IntegrityError(f"the audit log has no matching record of disposal "
                             f"{r.disposal_id}")
    verdict = ledger.verify_audit()
    if not verdict.ok:
        raise IntegrityError("the audit log has been altered: " + "; ".join(verdict.problems))
    checks.append(f"audit record {audit.seq} names this certificate; audit chain intact")


def _verify_file(settings: Settings, ledger: Ledger, path: Path, sig: Path | None,
                 checks: list[str]) -> tuple[Any, str]:
    signer = verify_detached(settings, path, sig or path.with_name(path.name + ".asc"))
    checks.append(f"{path.name}: OpenPGP signature good (key {signer})")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    row = _row_for(ledger, digest, _claimed_id(path) if path.suffix == ".json" else None)
    if signer != row.signing_key:
        raise IntegrityError(f"{path.name} is signed by key {signer}, but the register "
                             f"recorded key {row.signing_key}")
    checks.append(f"{path.name}: SHA-256 matches the register")
    return row, signer


def verify_certificate(settings: Settings, ledger: Ledger, target: str,
                       signature: Path | None = None) -> VerifyReport:
    """Verify a certificate file (PDF or JSON), or both twins of a certificate id."""
    path = Path(target)
    checks: list[str] = []
    if path.exists():
        files = [path]
    else:
        with ledger.engine.connect() as conn:
            found = conn.execute(select(disposals_table).where(
                disposals_table.c.disposal_id == target.strip())).first()
        if found is None:
            raise NotFoundError(f"no certificate file or certificate id {target!r}")
        files = [Path(found.json_path), Path(found.pdf_path)]
        for f in files:
            if not f.exists():
                raise NotFoundError(f"certificate file {f} is missing")
        signature = None
    row: Any = None
    signer = ""
    for f in files:
        r, s = _verify_file(settings, ledger, f, signature, checks)
        if row is not None and r.disposal_id != row.disposal_id:
            raise IntegrityError("the PDF and JSON are of different disposals")
        row, signer = r, s
    _check_register(ledger, row, checks)
    return VerifyReport(certificate_id=row.disposal_id, tag=row.tag,
                        files=[str(f) for f in files], signer=str(signer), checks=checks)
