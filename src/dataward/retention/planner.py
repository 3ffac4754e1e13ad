"""The retention planner: a pure function from what is known to what is due.

``plan(inventory, leavers, rules, as_of, on_roll=..., consents=...)`` reads nothing and
writes nothing. For each image it finds the pupils the image names (full name or UPN in
a folder name, the file name, or a people/keyword tag), then decides, in this order:

1. a legal hold covering the folder or one of the named pupils keeps it;
2. an image naming nobody is kept (``no-pupil-named``);
3. an image naming any pupil on roll is kept (a group photo stays while anyone remains);
4. a keeping consent (archive, publication) of any named pupil keeps it;
5. it becomes due ``days_after_leaving`` days after the latest leave date of the named
   pupils: before that it is kept (``not-yet-due``), from then on it is ``due``.

Every decision says why, naming pupils only by a reference (``pupil_ref``), never by
name or UPN.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from .inventory import ImageItem
from ..pipelines.mis import Pupil
from ..pipelines.names import fold, tokens, upns_in
from .schedule import Rules

KEEP_CODES = ("legal-hold", "no-pupil-named", "on-roll", "consent", "not-yet-due")
DUE_CODE = "due"
HARD_LINKED = "hard-linked"


@dataclass(frozen=True)
class Decision:
    item: ImageItem
    due: bool
    code: str
    reason: str
    pupils: tuple[str, ...] = ()  # pupil references, never names
    matched_by: tuple[str, ...] = ()  # "folder name", "file name", "xmp:PersonInImage", ...
    due_on: date | None = None


@dataclass
class PlanResult:
    keep: list[Decision]
    due: list[Decision]
    reasons: dict[str, int]
    warnings: list[str] = field(default_factory=list)

    def __iter__(self):  # keep, due, reasons = plan(...)
        return iter((self.keep, self.due, self.reasons))


def default_ref(p: Pupil) -> str:
    return f"{p.source}-line-{p.line}"


class _Matcher:
    """Finds the pupils a text names: n-grams of name tokens and UPN-shaped words."""

    def __init__(self, pupils: list[Pupil]) -> None:
        self.names: dict[tuple[str, ...], set[int]] = {}
        self.upns: dict[str, set[int]] = {}
        self.longest = 1
        for i, p in enumerate(pupils):
            if p.upn:
                self.upns.setdefault(p.upn, set()).add(i)
            sur = tokens(p.surname)
            if not sur:
                continue
            firsts = [tokens(p.forename)] + ([tokens(p.preferred)] if p.preferred else [])
            for fore in firsts:
                if not fore:
                    continue
                variants = {(*fore, *sur), (*sur, *fore), (fore[0], *sur), (*sur, fore[0])}
                variants.add(("".join(fore) + "".join(sur),))
                for v in variants:
                    self.names.setdefault(v, set()).add(i)
                    self.longest = max(self.longest, len(v))
        self._cache: dict[tuple[str, bool, bool], frozenset[int]] = {}

    def match(self, text: str, *, names: bool, upns: bool) -> frozenset[int]:
        key = (text, names, upns)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found: set[int] = set()
        if names and self.names:
            toks = tokens(text)
            for start in range(len(toks)):
                for n in range(1, min(self.longest, len(toks) - start) + 1):
                    ids = self.names.get(tuple(toks[start:start + n]))
                    if ids:
                        found |= ids
        if upns and self.upns:
            for u in upns_in(text):
                found |= self.upns.get(u, set())
        result = frozenset(found)
        if len(self._cache) < 500_000:
            self._cache[key] = result
        return result


def _held_folders(rules: Rules, as_of: date) -> list[str]:
    return [str(Path(h.folder)).rstrip("/") + "/" for h in rules.legal_holds
            if h.folder is not None and h.active(as_of)]


def _keeps(kinds: frozenset[str], words: set[str]) -> bool:
    return any(words & set(tokens(k)) for k in kinds)


def plan(inventory: Iterable[ImageItem], leavers: Iterable[Pupil], rules: Rules, as_of: date,
         *, on_roll: Iterable[Pupil] = (), consents: Mapping[str, frozenset[str]] | None = None,
         pupil_ref: Callable[[Pupil], str] = default_ref) -> PlanResult:
    """Decide keep or due for every image; see the module docstring for the order."""
    pupils = [*leavers, *on_roll]
    matcher = _Matcher(pupils)
    rules_pi = rules.pupil_images
    m = rules_pi.match
    refs = [pupil_ref(p) for p in pupils]
    roll_upns = {p.upn for p in pupils if p.leave_date is None and p.upn}
    on_roll_ids = {i for i, p in enumerate(pupils) if p.leave_date is None or p.upn in roll_upns}
    held_upns = {h.upn.upper() for h in rules.legal_holds if h.upn and h.active(as_of)}
    held_dirs = _held_folders(rules, as_of)
    keep_words = {fold(w) for w in rules_pi.keeping_consents}
    consents = consents or {}
    keep: list[Decision] = []
    due: list[Decision] = []
    reasons: Counter[str] = Counter()
    leavers_seen: set[int] = set()

    def decide(named: list[int], path_s: str) -> tuple[str, str, date | None]:
        """(code, reason, due date) for an image naming these pupils; first rule wins."""
        if held_dirs and any(path_s.startswith(d) for d in held_dirs):
            return "legal-hold", "under a folder on legal hold", None
        if not named:
            return "no-pupil-named", "names no known pupil", None
        if any(pupils[i].upn and pupils[i].upn in held_upns for i in named):
            return "legal-hold", "names a pupil on legal hold", None
        staying = [i for i in named if i in on_roll_ids]
        if staying:
            return "on-roll", f"names {len(named)} pupil(s), {len(staying)} still on roll", None
        leavers_seen.update(named)
        if any(_keeps(consents.get(pupils[i].upn or "", frozenset()), keep_words) for i in named):
            return "consent", "a named pupil gave archive or publication consent", None
        latest = max(d for i in named if (d := pupils[i].leave_date) is not None)
        due_on = latest + timedelta(days=rules_pi.days_after_leaving)
        if as_of < due_on:
            return ("not-yet-due", f"names {len(named)} pupil(s) who left; due from "
                    f"{due_on.isoformat()}", due_on)
        return (DUE_CODE, f"names {len(named)} pupil(s), all left (latest leave date "
                f"{latest.isoformat()}); due since {due_on.isoformat()}", due_on)

    root_strs: dict[Path, str] = {}
    for item in inventory:
        where: dict[int, set[str]] = {}
        parts = item.rel.split("/")
        texts = [(d, "folder name") for d in parts[:-1]]
        texts.append((os.path.splitext(parts[-1])[0], "file name"))
        for text, label in texts:
            for i in matcher.match(text, names=m.full_name_in_path, upns=m.upn_in_path):
                where.setdefault(i, set()).add(label)
        if m.metadata_tags:
            for label, text in item.tags:
                for i in matcher.match(text, names=True, upns=True):
                    where.setdefault(i, set()).add(label)
        named = sorted(where)
        by = tuple(sorted({w for i in named for w in where[i]}))
        who = tuple(sorted({refs[i] for i in named}))
        root_s = root_strs.get(item.root) or root_strs.setdefault(item.root, str(item.root))
        path_s = f"{root_s.rstrip('/')}/{item.rel}"

        code, reason, due_on = decide(named, path_s)
        if code == DUE_CODE and item.links > 1:
            # Purging overwrites the file's bytes, which every other name of it shares:
            # an rsnapshot tree or a photo manager's library outside the roots.
            code, reason = HARD_LINKED, (
                f"due, but the file has {item.links} hard links (its bytes are also under "
                "another name, perhaps outside the roots): left alone; remove the other "
                "links, then plan again")
        (due if code == DUE_CODE else keep).append(
            Decision(item, code == DUE_CODE, code, reason, who, by, due_on))
        reasons[code] += 1

    warnings: list[str] = []
    if reasons[HARD_LINKED]:
        warnings.append(f"{reasons[HARD_LINKED]} due image(s) have other hard links and are "
                        "left out of the plan (purging would overwrite the other copies too); "
                        "list them with `find ROOT -type f -links +1`, remove the other links, "
                        "then plan again")
    n_leavers = sum(1 for p in pupils if p.leave_date is not None)
    if keep or due:
        if n_leavers and not leavers_seen and not due:
            warnings.append(f"no image names any of the {n_leavers} leaver(s); check the image "
                            "roots and how photos are named or tagged")
    else:
        warnings.append("no images were found under the image roots")
    return PlanResult(keep, due, dict(reasons), warnings)
