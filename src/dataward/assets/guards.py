"""The school's disposal policy as one pure function: asset + request + evidence ->
the list of reasons to refuse (empty: the disposal may be recorded).

* a disposed asset cannot be disposed of again;
* an asset whose storage may hold personal data needs erasure evidence (a passing
  nwipe log or a vendor erasure certificate) for clear/purge, or a destruction
  certificate for destroy;
* a failed or aborted wipe in the evidence blocks clear/purge;
* a wipe log for a drive whose serial is readable must name one of the asset's drives;
* gift and sale need a PAT test, dated on or before the disposal and recent enough;
* waste needs the WEEE waste transfer note number;
* the disposal date cannot be in the future.
"""
from __future__ import annotations

from datetime import date, timedelta

from .evidence import Evidence
from .models import Asset, squash
from .request import DisposalRequest


def check_disposal(asset: Asset, req: DisposalRequest, evidence: list[Evidence], *,
                   today: date, pat_max_age_days: int) -> list[str]:
    problems: list[str] = []
    if asset.status == "disposed":
        return [f"asset {asset.tag} has already been disposed of; a disposal is recorded "
                "once (`dataward assets show TAG` shows its certificate)"]
    if req.disposed_on > today:
        problems.append("the disposal date is in the future")
    erasure = [e for e in evidence if e.role in ("erasure", "destruction")]
    logs = [e for e in erasure if e.wipe is not None]
    failed = [e for e in logs if not e.wipe.passed]  # type: ignore[union-attr]
    if req.method in ("clear", "purge"):
        for e in failed:
            states = ", ".join(f"{d.device}: {d.status or 'no status'}"
                               for d in e.wipe.drives) or "no drive summary"  # type: ignore[union-attr]
            problems.append(f"wipe log {e.file_name} (sha256 {e.sha256[:12]}) does not show a "
                            f"successful wipe ({states}, outcome {e.wipe.outcome}); "  # type: ignore[union-attr]
                            "wipe the drive again and pass the passing log, or record it "
                            "as destroyed with a destruction certificate")
    if asset.has_storage:
        if req.method in ("clear", "purge"):
            good = [e for e in erasure if e.wipe is None or e.wipe.passed]
            if not good:
                problems.append(f"asset {asset.tag} has storage that may hold personal data: "
                                "pass erasure evidence with --evidence (an nwipe log or the "
                                "erasure tool's certificate)")
        elif not erasure:
            problems.append(f"asset {asset.tag} has storage that may hold personal data: "
                            "pass the destruction certificate with --evidence")
    wanted = {squash(s) for s in asset.storage_serials}
    for e in logs:
        for d in e.wipe.drives:  # type: ignore[union-attr]
            if wanted and d.serial_state == "ok" and squash(d.serial) not in wanted:
                problems.append(f"wipe log {e.file_name} is for drive serial {d.serial}, "
                                f"which is not a storage serial of asset {asset.tag}")
    if req.route in ("gift", "sale"):
        if req.pat_date is None:
            problems.append(f"a {req.route} needs a PAT test date (--pat-date YYYY-MM-DD)")
        elif req.pat_date > req.disposed_on:
            problems.append("the PAT test date is after the disposal date")
        elif req.disposed_on - req.pat_date > timedelta(days=pat_max_age_days):
            problems.append(f"the PAT test is more than {pat_max_age_days} days older than "
                            "the disposal (assets.pat_max_age_days); test it again")
    if req.route == "waste" and not req.weee_note.strip():
        problems.append("disposal as waste needs the WEEE waste transfer note number "
                        "(--weee-note)")
    return problems
