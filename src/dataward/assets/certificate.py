"""The disposal certificate's content: one dict, written as the JSON twin and drawn
as the PDF, both signed.

Its sections follow NIST SP 800-88 Rev. 1 Appendix G (person performing sanitization,
media information, sanitization details, media destination, signature, validation)
plus the school-policy fields (authorisation, personal data likely held, licensing
checked, route, recipient and receipt, PAT test, WEEE waste transfer note).
"""
from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from typing import Any

from .evidence import Evidence
from .models import Asset, squash
from .request import DisposalRequest

FORMAT = "dataward.disposal-certificate/1"
ATTESTATION = ("I attest that the information provided on this statement is accurate to "
               "the best of my knowledge.")
METHOD_TYPE = {"clear": "Clear", "purge": "Purge", "destroy": "Destroy"}


def new_certificate_id(on: date) -> str:
    return f"DW-{on:%Y%m%d}-{secrets.token_hex(4).upper()}"


def _serial_text(d: Any) -> str:
    if d.serial_state == "ok":
        return d.serial
    if d.serial_state == "anonymised":
        return "anonymised in the log"
    if d.serial_state == "unreadable":
        return f"unreadable (raw bytes {d.serial_hex})"
    return "not reported"


def _erasure_results(evidence: list[Evidence], serials: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for e in evidence:
        if e.wipe is None:
            continue
        for d in e.drives_for(serials):
            rows.append({
                "evidence_sha256": e.sha256, "tool": e.wipe.tool, "method": e.wipe.method,
                "verification": e.wipe.verify, "rounds": e.wipe.rounds, "passes": d.passes,
                "blanked": d.blanked, "device": d.device, "model": d.model,
                "serial": _serial_text(d), "status": d.status,
                "pass_errors": d.pass_errors, "verification_errors": d.verify_errors,
                "sync_errors": d.sync_errors, "started": e.wipe.started,
                "finished": e.wipe.finished, "outcome": e.wipe.outcome,
                "result": "passed" if d.passed else "FAILED",
            })
    return rows


def _verification(req: DisposalRequest, evidence: list[Evidence]) -> str:
    if req.verification:
        return req.verification
    verifies = [e.wipe.verify for e in evidence if e.wipe is not None]
    if verifies:
        # nwipe reads back the whole device when it verifies.
        return "full" if all(v and v != "off" for v in verifies) else "none"
    return "other" if evidence else "none"


def _tool(req: DisposalRequest, evidence: list[Evidence]) -> str:
    if req.tool:
        return req.tool
    tools = sorted({e.wipe.tool for e in evidence if e.wipe is not None})
    return ", ".join(tools) if tools else "see evidence"


def _details(req: DisposalRequest, evidence: list[Evidence]) -> str:
    parts = sorted({f"{e.wipe.method}, verify {e.wipe.verify}, {e.wipe.rounds} round(s)"
                    for e in evidence if e.wipe is not None})
    return "; ".join(parts) if parts else req.sanitization_technique


def build_certificate(*, certificate_id: str, school: str, asset: Asset,
                      req: DisposalRequest, evidence: list[Evidence], signing_key: str,
                      issued: datetime | None = None) -> dict[str, Any]:
    issued = issued or datetime.now(UTC)
    wipes = _erasure_results(evidence, asset.storage_serials)
    by_serial = {squash(w["serial"]): w for w in wipes}
    media_serials = list(asset.storage_serials) or ([""] if asset.has_storage else [])
    media = []
    for s in media_serials:
        w = by_serial.get(squash(s)) if s else None
        media.append({
            "make": asset.make, "model": asset.model,
            "serial": s or "not recorded in the register", "media_type": req.media_type,
            "source": f"asset {asset.tag}",
            "erasure_result": w["result"] if w else ("see erasure results" if wipes else
                                                     "see evidence"),
        })
    return {
        "format": FORMAT,
        "certificate_id": certificate_id,
        "school": school,
        "issued": issued.isoformat(timespec="seconds"),
        "asset": {
            "tag": asset.tag, "type": asset.type, "make": asset.make, "model": asset.model,
            "serial": asset.serial, "location": asset.location,
            "purchase_date": asset.purchase_date.isoformat() if asset.purchase_date else "",
            "has_storage": asset.has_storage,
        },
        "media": media,
        "authorisation": {
            "authorised_by": req.authorised_by,
            "personal_data_likely_held": req.personal_data,
            "software_licensing_verified": req.licences_checked,
            "data_backed_up": req.data_backed_up,
        },
        "sanitization": {
            "method_type": METHOD_TYPE[req.method],
            "technique": req.sanitization_technique,
            "method_details": _details(req, evidence),
            "tool": _tool(req, evidence),
            "verification_method": _verification(req, evidence),
            "post_sanitization_classification": "unclassified (no personal data)",
            "notes": req.notes,
        },
        "erasure_results": wipes,
        "disposal": {
            "date": req.disposed_on.isoformat(),
            "route": req.route,
            "recipient": req.recipient,
            "media_destination": req.media_destination,
            "recipient_receipt_sha256": next(
                (e.sha256 for e in evidence if e.role == "receipt"), ""),
            "pat_test_date": req.pat_date.isoformat() if req.pat_date else "",
            "weee_transfer_note": req.weee_note,
        },
        "evidence": [{"file_name": e.file_name, "sha256": e.sha256, "kind": e.kind,
                      "role": e.role, "size": e.size} for e in evidence],
        "sanitized_by": {"name": req.technician, "title": req.technician_title,
                         "organisation": school},
        "validation": {"name": req.validated_by,
                       "date": req.disposed_on.isoformat() if req.validated_by else ""},
        "attestation": ATTESTATION,
        "signature": {"method": "OpenPGP detached signature (.asc) of this file",
                      "key_fingerprint": signing_key},
    }


def certificate_json(cert: dict[str, Any]) -> bytes:
    """The JSON twin's exact bytes (stable: sorted keys, UTF-8)."""
    return (json.dumps(cert, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
