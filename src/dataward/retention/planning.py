"""Make a plan from the config (or ad-hoc inputs), store it, and approve it.

This is the I/O around the pure planner: read the MIS exports, walk the image roots,
hash the due files, store the plan in the ledger and audit it. Nothing here moves or
deletes a file.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Row

from ..errors import ConfigError, IntegrityError, RefusedError
from ..ledger import Ledger, current_user, utcnow
from ..settings import Settings
from . import store
from .inventory import build_inventory
from ..pipelines.approval import approver_named, refuse_unless_waiting
from ..pipelines.mis import Pupil, cross_check, read_consents, read_pupils
from .planner import plan
from .safefs import open_dir, sha256_at
from .schedule import load_rules

Progress = Callable[[str, int, int | None], None]  # (stage, advance, total)


@dataclass(frozen=True)
class PlanInputs:
    leavers_csv: Path
    image_roots: list[Path]
    as_of: date
    on_roll_csv: Path | None = None
    consent_csv: Path | None = None


@dataclass(frozen=True)
class PlanSummary:
    plan_id: str
    as_of: date
    images: int
    due: int
    due_bytes: int
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    status: str = store.PLANNED


def inputs_from(settings: Settings, *, leavers: Path | None = None, on_roll: Path | None = None,
                consent: Path | None = None, images: list[Path] | None = None,
                as_of: date | None = None) -> PlanInputs:
    """Ad-hoc options win over the config's retention section."""
    r = settings.retention
    leavers = leavers or r.leavers_csv
    roots = images or r.image_roots
    if leavers is None:
        raise ConfigError("no leavers export given",
                          hint="set retention.leavers_csv in the config, or pass --leavers CSV")
    if not roots:
        raise ConfigError("no image folders given",
                          hint="set retention.image_roots in the config, or pass --images PATH")
    from ..connectors.smb import is_smb_path
    smb = [str(p) for p in roots if is_smb_path(p)]
    if smb:
        raise RefusedError(f"retention works on local folders only; {smb[0]} is an SMB share",
                           hint="run dataward on the file server, or mount the share and list "
                                "the mounted folder in retention.image_roots")
    return PlanInputs(leavers, list(roots), as_of or date.today(),
                      on_roll or r.on_roll_csv, consent or r.consent_csv)


def pupil_ref_for(key: bytes) -> Callable[[Pupil], str]:
    """References that let the DPO find a pupil's images (fingerprint the UPN the same
    way) without the plan holding the UPN or the name."""
    def ref(p: Pupil) -> str:
        basis = f"upn:{p.upn}" if p.upn else f"name:{p.forename.lower()} {p.surname.lower()}"
        return "P-" + hmac.new(key, basis.encode(), hashlib.sha256).hexdigest()[:12]
    return ref


def _file_sha(path: Path | None) -> dict[str, str] | None:
    if path is None:
        return None
    return {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def make_plan(settings: Settings, ledger: Ledger, inputs: PlanInputs, *,
              progress: Progress | None = None, actor: str | None = None) -> PlanSummary:
    from ..home import fingerprint_key
    r = settings.retention
    rules = load_rules(r.schedule_file)
    leavers = read_pupils(inputs.leavers_csv, leavers=True)
    on_roll = read_pupils(inputs.on_roll_csv, leavers=False) if inputs.on_roll_csv else None
    consents = read_consents(inputs.consent_csv) if inputs.consent_csv else None
    issues = [*leavers.warnings, *(on_roll.warnings if on_roll else []),
              *(consents.warnings if consents else []), *cross_check(leavers, on_roll, consents)]

    def tick(stage: str, n: int = 1, total: int | None = None) -> None:
        if progress is not None:
            progress(stage, n, total)

    inv = build_inventory(inputs.image_roots, extensions=r.image_extensions,
                          quarantine_dirname=r.quarantine_dirname, read_metadata=r.read_tags,
                          progress=lambda n: tick("inventory", n))
    result = plan(inv.items, leavers.pupils, rules, inputs.as_of,
                  on_roll=on_roll.pupils if on_roll else (),
                  consents=consents.by_upn if consents else None,
                  pupil_ref=pupil_ref_for(fingerprint_key(settings, create=True)))
    warnings = [str(i) for i in issues] + result.warnings
    if inv.symlinks_skipped:
        warnings.append(f"{inv.symlinks_skipped} symlink(s) under the image roots were left alone")
    if inv.unreadable_tags:
        warnings.append(f"{inv.unreadable_tags} image(s) had unreadable metadata; "
                        "planned on their paths only")
    if inv.unreadable_dirs:
        warnings.append(f"{inv.unreadable_dirs} folder(s) could not be read")

    items: list[dict[str, Any]] = []
    for no, d in enumerate(result.due, start=1):
        with open_dir(d.item.root, d.item.rel.rpartition("/")[0]) as dfd:
            sha = sha256_at(dfd, d.item.rel.rpartition("/")[2])
        items.append({"plan_id": "", "item_no": no, "root": str(d.item.root), "rel": d.item.rel,
                      "size": d.item.size, "mtime_ns": d.item.mtime_ns, "sha256": sha,
                      "reason": d.reason, "pupils": json.dumps(d.pupils),
                      "matched_by": json.dumps(d.matched_by),
                      "due_on": d.due_on.isoformat() if d.due_on else None,
                      "state": store.WAITING})
        tick("hash", 1, len(result.due))
    digest = store.items_digest((i["item_no"], i["root"], i["rel"], i["size"], i["mtime_ns"],
                                 i["sha256"]) for i in items)
    plan_id = f"rp-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    inputs_doc = {"leavers": _file_sha(inputs.leavers_csv), "on_roll": _file_sha(inputs.on_roll_csv),
                  "consent": _file_sha(inputs.consent_csv)}
    counts = dict(sorted(result.reasons.items()))
    due_bytes = sum(i["size"] for i in items)
    row = {"plan_id": plan_id, "created": utcnow(), "created_by": actor or "dataward",
           "as_of": inputs.as_of.isoformat(), "status": store.PLANNED, "digest": digest,
           "rules_digest": rules.digest(), "inputs": json.dumps(inputs_doc),
           "roots": json.dumps([str(p) for p in inv.roots]), "counts": json.dumps(counts),
           "images": len(inv.items), "due": len(items), "due_bytes": due_bytes,
           "warnings": json.dumps(warnings)}
    with ledger.begin() as conn:
        superseded = store.insert_plan(conn, row, items)
        ledger.audit("retention.plan", plan_id, actor=actor, conn=conn, images=len(inv.items),
                     superseded=superseded,
                     due=len(items), due_bytes=due_bytes, counts=counts, digest=digest,
                     rules_digest=row["rules_digest"], as_of=row["as_of"],
                     inputs={k: v["sha256"] for k, v in inputs_doc.items() if v},
                     warnings=len(warnings))
    return PlanSummary(plan_id, inputs.as_of, len(inv.items), len(items), due_bytes, counts,
                       warnings)


def approve_plan(settings: Settings, ledger: Ledger, plan_id: str, by: str,
                 *, via: str = "cli") -> PlanSummary:
    """Record that a named person approved this plan, as it stands now.

    ``by`` is the name the approver typed; the audit record keeps it beside the
    operating-system account that ran the command (``os_user``) and the channel
    (``via``: cli or prefect-ui). ``retention.approver_accounts`` limits who may approve
    by that account, which the typed name cannot do."""
    by = approver_named(plan_id, by, settings.retention.approvers, job="retention")
    os_user = current_user()
    accounts = settings.retention.approver_accounts
    if accounts and via != "cli":
        raise RefusedError("retention.approver_accounts is set, and an approval through "
                           f"{via} cannot show which account gave it",
                           hint="approve with `dataward retention approve` on the server")
    if accounts and os_user not in accounts:
        raise RefusedError(f"the account {os_user!r} may not approve deletions",
                           hint="retention.approver_accounts lists the accounts that may; "
                                "run the approval as one of them")
    row = store.get_plan(ledger, plan_id)
    refuse_unless_waiting(row.plan_id, row.status, row.approved_by, job="retention")
    if store.current_digest(ledger, row.plan_id) != row.digest:
        raise IntegrityError(f"plan {row.plan_id} was altered in the ledger after it was made",
                             hint="make a new plan with `dataward retention plan`")
    with ledger.begin() as conn:
        store.set_plan(conn, row.plan_id, status=store.APPROVED, approved_by=by,
                       approved_at=utcnow(), approved_digest=row.digest)
        ledger.audit("retention.approve", row.plan_id, actor=by, conn=conn, due=row.due,
                     digest=row.digest, os_user=os_user, via=via)
    return summary_of(store.get_plan(ledger, row.plan_id))


def summary_of(row: Row[Any]) -> PlanSummary:
    return PlanSummary(row.plan_id, date.fromisoformat(row.as_of), row.images, row.due,
                       row.due_bytes, store.counts(row), json.loads(row.warnings),
                       row.status)
