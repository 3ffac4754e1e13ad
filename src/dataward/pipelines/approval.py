"""Named people and approvals: one set of rules for every job that records who acted.

Every step a person answers for (approving a retention plan, a plan to disable leavers'
accounts or a remediation plan; recording or closing a subject access request; a review
decision) names that person with ``--by``. The name is kept with its spaces tidied, and an
empty one is refused. An approval also:
- names a plan by its id, never ``latest`` (the newest plan may not be the one the approver
  read);
- is refused to a name missing from the job's ``approvers`` in the config, when that list
  is set (compared without case);
- is refused for a plan that is not waiting for approval: a superseded plan was made from
  older inputs, and an approved or applied one cannot be approved again.
The operating-system account that ran the step is recorded beside the name
(``ledger.current_user``).
"""
from __future__ import annotations

from collections.abc import Sequence

from ..errors import RefusedError, UsageError

PLANNED, SUPERSEDED = "planned", "superseded"   # the plan states every job shares


def person_named(by: str, doing: str) -> str:
    """The name typed with ``--by``, spaces tidied; ``doing`` says what the person does
    ("approving", "closing the request") in the message that refuses an empty name."""
    name = " ".join(by.split())
    if not name:
        raise UsageError(f"name the person {doing} with --by \"Full Name\"")
    return name


def approver_named(plan_id: str, by: str, approvers: Sequence[str], *, job: str) -> str:
    """The approver's tidied name, once the plan id and the name pass the rules above.
    ``job`` is the command group and config section (``retention``, ``accounts``)."""
    if plan_id == "latest":
        raise UsageError("approve names a plan by its id, never `latest`")
    name = person_named(by, "approving")
    if approvers and name.casefold() not in {a.casefold() for a in approvers}:
        raise RefusedError(f"{name!r} is not one of the approvers in the config",
                           hint=f"{job}.approvers lists who may approve its plans")
    return name


def refuse_unless_waiting(plan_id: str, status: str, approved_by: str | None, *, job: str) -> None:
    """Refuse to approve a plan that is not waiting for approval."""
    if status == SUPERSEDED:
        raise RefusedError(f"plan {plan_id} was superseded by a newer plan",
                           hint=f"approve the newest plan (`dataward {job} list`)")
    if status != PLANNED:
        raise RefusedError(f"plan {plan_id} is already {status}"
                           + (f" (approved by {approved_by})" if approved_by else ""),
                           hint=f"make a new plan with `dataward {job} plan`")
