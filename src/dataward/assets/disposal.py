"""Record a disposal: check the policy, keep the evidence, write and sign the
certificate, and commit register row, evidence links and audit record together.

Order matters: everything that can fail (reading evidence, the policy, the signing
key, drawing and signing) happens before the one transaction; the certificate files
are moved into place as the transaction's last step, so a refused or failed disposal
leaves nothing behind but content-addressed evidence copies.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, insert, update

from ..connectors.filesystem import file_sha256
from ..errors import RefusedError
from ..ledger import Ledger, utcnow
from ..settings import Settings
from .certificate import build_certificate, certificate_json, new_certificate_id
from .evidence import Evidence, EvidenceRole, read_evidence, store_evidence
from .guards import check_disposal
from .pdf import render_pdf
from .register import get_asset
from .request import DisposalRequest
from .signing import Signer
from .tables import assets_table, disposal_evidence_table, disposals_table

log = logging.getLogger("dataward.assets")


@dataclass(frozen=True)
class DisposalResult:
    certificate_id: str
    tag: str
    json_path: Path
    pdf_path: Path
    json_sha256: str
    pdf_sha256: str
    audit_seq: int
    evidence: int


def certificates_dir(home: Path) -> Path:
    return home / "assets" / "certificates"


def _read_all(req: DisposalRequest, max_mb: float) -> list[Evidence]:
    role: EvidenceRole = "destruction" if req.method == "destroy" else "erasure"
    items = [read_evidence(p, role, max_mb=max_mb) for p in req.evidence]
    if req.pat_certificate:
        items.append(read_evidence(req.pat_certificate, "pat", max_mb=max_mb))
    if req.receipt:
        items.append(read_evidence(req.receipt, "receipt", max_mb=max_mb))
    seen: set[str] = set()
    unique = []
    for e in items:
        if e.sha256 not in seen:
            seen.add(e.sha256)
            unique.append(e)
    return unique


def record_disposal(settings: Settings, ledger: Ledger, req: DisposalRequest, *,
                    today: date | None = None) -> DisposalResult:
    """Check, certify, sign and record one disposal. Raises RefusedError with every
    reason when the policy says no; nothing is recorded then."""
    today = today or date.today()
    asset = get_asset(ledger, req.tag)
    evidence = _read_all(req, settings.assets.evidence_max_mb)
    problems = check_disposal(asset, req, evidence, today=today,
                              pat_max_age_days=settings.assets.pat_max_age_days)
    if problems:
        raise RefusedError(f"disposal of {asset.tag} refused:\n  " + "\n  ".join(problems))
    signer = Signer(settings)
    cert_id = new_certificate_id(req.disposed_on)
    cert = build_certificate(certificate_id=cert_id, school=settings.school.name,
                             asset=asset, req=req, evidence=evidence,
                             signing_key=signer.fingerprint)
    out = certificates_dir(settings.home)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = {"json": out / f"{cert_id}.json", "pdf": out / f"{cert_id}.pdf"}
    tmp = {k: p.with_name(f".{p.name}.tmp") for k, p in final.items()}
    json_text = certificate_json(cert)
    written: list[Path] = []
    try:
        tmp["json"].write_bytes(json_text)
        written.append(tmp["json"])
        written.append(tmp["pdf"])
        render_pdf(cert, tmp["pdf"])
        sigs = {k: signer.sign(p) for k, p in tmp.items()}
        written.extend(sigs.values())
        json_sha, pdf_sha = hashlib.sha256(json_text).hexdigest(), file_sha256(tmp["pdf"])
        with ledger.begin() as conn:
            # Claim the asset inside the transaction: a second disposal running at the
            # same time finds it already disposed.
            claimed = conn.execute(
                update(assets_table)
                .where(func.lower(assets_table.c.tag) == asset.tag.lower(),
                       assets_table.c.status != "disposed")
                .values(status="disposed", updated=utcnow())).rowcount
            if claimed != 1:
                raise RefusedError(f"asset {asset.tag} has already been disposed of")
            for e in evidence:
                store_evidence(conn, settings.home, e)
            rec = ledger.audit(
                "assets.dispose", asset.tag, conn=conn, certificate_id=cert_id,
                method=req.method, route=req.route, disposed_on=req.disposed_on.isoformat(),
                json_sha256=json_sha, pdf_sha256=pdf_sha, signing_key=signer.fingerprint,
                evidence=[{"sha256": e.sha256, "kind": e.kind, "role": e.role}
                          for e in evidence])
            conn.execute(insert(disposals_table).values(
                disposal_id=cert_id, tag=asset.tag, disposed_on=req.disposed_on.isoformat(),
                method=req.method, route=req.route, recorded=utcnow(),
                certificate=json_text.decode(), json_path=str(final["json"]),
                json_sha256=json_sha, pdf_path=str(final["pdf"]), pdf_sha256=pdf_sha,
                signing_key=signer.fingerprint, audit_seq=rec.seq))
            for e in evidence:
                conn.execute(insert(disposal_evidence_table).values(
                    disposal_id=cert_id, sha256=e.sha256, role=e.role))
            for k in ("json", "pdf"):
                final_sig = final[k].with_name(final[k].name + ".asc")
                written.extend((final[k], final_sig))  # removed again if the commit fails
                os.replace(tmp[k], final[k])
                os.replace(sigs[k], final_sig)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    log.info("disposal %s recorded for asset %s (audit %d)", cert_id, asset.tag, rec.seq)
    return DisposalResult(cert_id, asset.tag, final["json"], final["pdf"], json_sha, pdf_sha,
                          rec.seq, len(evidence))
