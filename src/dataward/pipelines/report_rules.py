"""What the DPO should do next about a risky item: a short rule table, first match wins.

The rules are the school policies the report checks: special-category data where pupils
can open it is moved or restricted; a pupil's name in an image's file or folder name is
renamed away; anything past its retention date is reviewed for deletion. An item with
personal data that matches no rule gets the general step (check who can open it)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# (rule id, when it applies, what to do): shown in the report as a legend.
RULES: tuple[tuple[str, str, str], ...] = (
    ("special-exposed", "special-category data where pupils can open it",
     ("move it to a staff-only folder or restrict who can open it "
      "(dataward remediate plan ITEM --move-to FOLDER)")),
    ("name-in-image-name", "a pupil's name in an image's file or folder name",
     "rename the image (dataward remediate plan ITEM --rename: IMG-<id>.jpg)"),
    ("past-retention", "older than its retention period",
     "review it for deletion (dataward retention plan)"),
)
GENERAL = "check that only the people who need it can open it"


def rule_of(step: str) -> str | None:
    """The id of the rule whose next step is ``step`` (None: the general step or none)."""
    return next((rid for rid, _when, action in RULES if action == step), None)


def rule_when(rule_id: str) -> str:
    return next((when for rid, when, _action in RULES if rid == rule_id), rule_id)


@dataclass(frozen=True)
class StepFacts:
    """Per-item facts the rules need (item locators)."""
    name_in_path: frozenset[str] = frozenset()
    past_retention: frozenset[str] = frozenset()   # item paths past retention


def next_steps(df: pd.DataFrame, facts: StepFacts, pupil_audiences: frozenset[str]) -> list[str]:
    """The next step of each row of ``df`` (items columns), in order."""
    steps = {rid: action for rid, _when, action in RULES}
    out = []
    for r in df[["locator", "path", "special_category", "audience", "error"]].itertuples(index=False):
        if bool(r.special_category) and r.audience in pupil_audiences:
            out.append(steps["special-exposed"])
        elif r.locator in facts.name_in_path:
            out.append(steps["name-in-image-name"])
        elif r.path in facts.past_retention or "retention" in str(r.error or ""):
            out.append(steps["past-retention"])
        else:
            out.append(GENERAL)
    return out
