"""The trust file: the shared ledger, where results go, and the schools.

Each school keeps its own dataward config (sources, rosters, audiences, retention,
backup) and its own state folder, so its own fingerprint key: one school's key never
opens another's fingerprints. The trust sets three things in each school's settings: the
shared ledger URL, the school's id (which keeps its rows apart in that ledger) and its
state folder (``<state_dir>/schools/<id>`` unless the school names one).

```yaml
name: Northern Lights Academy Trust
database_url: postgresql+psycopg://dataward@db.trust.internal/dataward
state_dir: /srv/dataward-trust
results: s3://trust-results/scans      # or a folder; default <state_dir>/results
s3: {endpoint_url: https://s3.trust.internal}   # credentials: AWS_* environment
parts_per_share: 4                     # each share is scanned in this many parts
item_workers: 1                        # item processes per part (one core per Dask thread)
schools:
  - {id: oakfield, config: oakfield/dataward.yaml}
  - {id: riverside, config: riverside/dataward.yaml}
```
"""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError
from ..settings import Settings, check_unique, load_settings

SCHOOL_ID = r"^[a-z0-9][a-z0-9-]{0,39}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrustSchool(_Model):
    id: str = Field(pattern=SCHOOL_ID)
    config: Path
    state_dir: Path | None = None


class S3(_Model):
    endpoint_url: str | None = None
    region: str = "us-east-1"


class Trust(_Model):
    name: str = "Our Trust"
    database_url: str
    state_dir: Path
    results: str | None = None
    s3: S3 = S3()
    parts_per_share: int = Field(4, ge=1, le=256)
    item_workers: int = Field(1, ge=0)
    schools: list[TrustSchool] = Field(min_length=1)

    config_path: Path | None = Field(default=None, exclude=True)

    @field_validator("schools")
    @classmethod
    def _unique_ids(cls, schools: list[TrustSchool]) -> list[TrustSchool]:
        check_unique([s.id for s in schools], "school ids")
        return schools

    @property
    def results_location(self) -> str:
        return self.results or str(self.state_dir / "results")

    @property
    def reports_dir(self) -> Path:
        return self.state_dir / "reports"

    def school(self, school_id: str) -> TrustSchool:
        for s in self.schools:
            if s.id == school_id:
                return s
        raise ConfigError(f"no school {school_id!r} in the trust file {self.config_path}",
                          hint=f"schools: {', '.join(s.id for s in self.schools)}")

    def school_settings(self, school_id: str) -> Settings:
        """The school's own settings, on the trust's ledger, under its id and folder."""
        entry = self.school(school_id)
        settings = load_settings(entry.config)
        settings.database_url = self.database_url
        settings.school.id = entry.id
        settings.home_override = (entry.state_dir or self.state_dir / "schools" / entry.id).resolve()
        return settings


def load_trust(path: Path | str) -> Trust:
    """Read the trust file; relative paths are taken relative to it."""
    path = Path(path).expanduser()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read the trust file {path}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise ConfigError(f"the trust file {path} is not valid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"the trust file {path}: the top level must be a mapping")
    base = path.parent.resolve()

    def here(p: str) -> str:
        q = Path(p).expanduser()
        return str(q if q.is_absolute() else base / q)

    if "state_dir" in raw:
        raw["state_dir"] = here(str(raw["state_dir"]))
    if isinstance(raw.get("results"), str) and "://" not in raw["results"]:
        raw["results"] = here(raw["results"])
    for school in raw.get("schools") or []:
        if isinstance(school, dict):
            for key in ("config", "state_dir"):
                if school.get(key):
                    school[key] = here(str(school[key]))
    try:
        trust = Trust(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"trust file {path}: {where}: "
                          f"{first['msg'].removeprefix('Value error, ')}") from None
    trust.config_path = path.resolve()
    return trust
