"""The retention schedule: the rules the planner applies, loaded from YAML.

The shipped default is ``data/retention-schedule.yaml`` (``config/retention-schedule.yaml``
in the source tree); ``retention.schedule_file`` in the config points at a school's own.
"""
from __future__ import annotations

import hashlib
from datetime import date
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .. import safeyaml
from ..errors import ConfigError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchRules(_Model):
    full_name_in_path: bool = True
    upn_in_path: bool = True
    metadata_tags: bool = True


class PupilImageRules(_Model):
    days_after_leaving: int = Field(30, ge=0)
    keeping_consents: list[str] = Field(default_factory=lambda: ["archive", "publication"])
    match: MatchRules = MatchRules()


class LegalHold(_Model):
    """Keeps every image of one pupil (``upn``) or under one folder."""

    upn: str | None = None
    folder: Path | None = None
    reason: str = Field(min_length=1)
    until: date | None = None

    @model_validator(mode="after")
    def _one_target(self) -> LegalHold:
        if (self.upn is None) == (self.folder is None):
            raise ValueError("a legal hold names exactly one of `upn` or `folder`")
        return self

    def active(self, on: date) -> bool:
        return self.until is None or on <= self.until


class Rules(_Model):
    """Everything the planner needs to know about policy."""

    version: int = 1
    pupil_images: PupilImageRules = PupilImageRules()
    legal_holds: list[LegalHold] = Field(default_factory=list)

    def digest(self) -> str:
        """A hash of the rules, stored with each plan (what policy produced it)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def default_schedule_text() -> str:
    return resources.files("dataward").joinpath("data/retention-schedule.yaml").read_text("utf-8")


def load_rules(path: Path | None = None) -> Rules:
    """Load a schedule file (None: the shipped default). Bad files raise ConfigError."""
    origin = str(path) if path else "the shipped retention schedule"
    try:
        text = path.read_text(encoding="utf-8") if path else default_schedule_text()
    except OSError as exc:
        raise ConfigError(f"cannot read the retention schedule {origin}: {exc.strerror}",
                          hint="check retention.schedule_file in the config") from None
    try:
        raw = safeyaml.load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        what = exc.problem if isinstance(exc, safeyaml.YamlRefused) else "not valid YAML"
        raise ConfigError(f"the retention schedule {origin}: {what}{line}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"the retention schedule {origin} must be a mapping at the top level")
    if path is not None:
        base = path.parent.resolve()
        for hold in raw.get("legal_holds") or []:
            if isinstance(hold, dict) and isinstance(hold.get("folder"), str):
                folder = Path(hold["folder"]).expanduser()
                hold["folder"] = str(folder if folder.is_absolute() else base / folder)
    try:
        return Rules.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        msg = first["msg"]
        if first["type"] == "extra_forbidden":
            msg = "unknown key (compare with config/retention-schedule.yaml)"
        raise ConfigError(f"retention schedule {origin}: {where}: {msg}") from None
