"""The school's disposal policy as one pure function: asset + request + evidence ->
the list of reasons to refuse (empty: the disposal may be recorded).

* a disposed asset cannot be disposed of again;
* an asset whose storage may hold personal data needs erasure evidence (a passing
  nwipe log or a vendor erasure certificate) for clear/purge, or a destruction
  certificate for destroy;
* a failed or aborted wipe in the evidence blocks clear/purge;
* a wipe log whose drive serials are readable must name at least one of the asset's
  drives (one nwipe run may wipe the drives of several assets);
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
    serials = asset.storage_serials
    wanted = {squash(s) for s in serials}
    for e in logs:
        if e.wipe is None:
            continue
        readable = [d for d in e.wipe.drives if d.serial_state == "ok"]
        if wanted and readable and not e.drives_for(serials):
            problems.append(f"wipe log {e.file_name} is for drive serial(s) "
                            f"{', '.join(d.serial for d in readable)}, none of which is a "
                            f"storage serial of asset {asset.tag}")
    failed = [e for e in logs if e.drives_for(serials) and not e.wipe_passed_for(serials)]
    if req.method in ("clear", "purge"):
        for e in failed:
            states = ", ".join(f"{d.device}: {d.status or 'no status'}"
                               for d in e.drives_for(serials))
            problems.append(f"wipe log {e.file_name} (sha256 {e.sha256[:12]}) does not show a "
                            f"successful wipe ({states}, outcome {e.wipe.outcome if e.wipe else '?'}); "
                            "wipe the drive again and pass the passing log, or record it "
                            "as destroyed with a destruction certificate")
    if asset.has_storage:
        if req.method in ("clear", "purge"):
            good = [e for e in erasure if e.wipe is None or e.wipe_passed_for(serials)]
            if not good and not failed:
                problems.append(f"asset {asset.tag} has storage that may hold personal data: "
                                "pass erasure evidence with --evidence (an nwipe log or the "
                                "erasure tool's certificate)")
        elif not erasure:
            problems.append(f"asset {asset.tag} has storage that may hold personal data: "
                            "pass the destruction certificate with --evidence")
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
