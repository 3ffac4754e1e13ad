"""The whole dataward configuration as pydantic models, and the one loader.

Precedence, highest first: keyword arguments, environment variables
(``DATAWARD_<SECTION>__<KEY>``, e.g. ``DATAWARD_SCAN__MAX_FILE_MB=50``), the YAML file,
the defaults below. Relative paths in the YAML file are taken relative to the file.

The state folder (ledger, scans, keys) is ``$DATAWARD_HOME`` when set, else the
config's ``state_dir``, else a per-user default (``~/.local/share/dataward`` on Linux).
"""
from __future__ import annotations

import contextvars
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import platformdirs
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError,
)

from . import safeyaml
from .errors import ConfigError

# The sections of the jobs beside the scan live in job_settings; imported from here as ever.
from .job_settings import (  # explicit re-exports (mypy strict)
    Accounts as Accounts, Assets as Assets, Backup as Backup, BackupTarget as BackupTarget,
    Directory as Directory, Mail as Mail, Ocr as Ocr, Remediate as Remediate,
    Retention as Retention, Transfer as Transfer, _Section, check_unique as check_unique,
)

CONFIG_FILE_NAME = "dataward.yaml"
Audience = str  # free text from the config: pupils, staff, admin, external-mail, ...


class School(_Section):
    name: str = "Our School"
    # The school's id in a shared (trust) ledger; a school on its own keeps the default.
    id: str = Field("default", pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    # Mail domains that count as inside the school; anything else is external.
    domains: list[str] = Field(default_factory=list)


class Source(_Section):
    """One place to scan: a share (folder), a mail export, or an SMB share
    (``path: smb://server/share/folder``, read over the network in place)."""

    name: str
    path: Path | None = None
    kind: Literal["share", "mbox", "eml", "msg", "pst", "smb"] = "share"
    url: str | None = None  # smb://server/share/folder (set from `path` when it is a URL)
    audience: Audience = "staff"
    include: list[str] = Field(default_factory=lambda: ["**"])
    exclude: list[str] = Field(
        # Quarantined images (retention) are out of use and held only until purge.
        default_factory=lambda: ["**/~$*", "**/Thumbs.db", "**/.DS_Store", "**/desktop.ini",
                                 ".dataward-quarantine/", "**/.dataward-quarantine/"]
    )
    # The path is a mount point (a share mounted from a file server): when nothing is
    # mounted there tonight, the source is unavailable instead of empty.
    mount: bool = False

    @model_validator(mode="before")
    @classmethod
    def _smb_url(cls, data: Any) -> Any:
        """``path: smb://server/share/folder`` (or ``\\\\server\\share``) makes an SMB source."""
        if isinstance(data, dict):
            raw = str(data.get("path") or data.get("url") or "")
            if raw.lower().startswith("smb://") or raw.startswith("\\\\"):
                data = {**data, "url": raw, "kind": "smb"}
                data.pop("path", None)
            elif data.get("path") is None:
                raise ValueError("a source needs a path (a folder, a mail export or smb://server/share)")
        return data


class Roster(_Section):
    """A names export from the MIS (SIMS, Arbor, Bromcom): pupils, staff or contacts."""

    path: Path
    kind: Literal["pupils", "staff", "contacts"] = "pupils"


class Smb(_Section):
    """How dataward reaches SMB shares, and who may read what on them.

    The password is never in this file: it comes from ``password_file`` (readable by the
    service user only: mode 0600 or 0400, else refused) or the environment variable named
    by ``password_env``."""

    username: str | None = None  # DOMAIN\\user or user@realm.example
    password_file: Path | None = None
    password_env: str = "DATAWARD_SMB_PASSWORD"
    port: int = Field(445, gt=0, lt=65536)
    # auto: encrypt when the server offers SMB 3 encryption, else signed only;
    # required: refuse a server that cannot encrypt; off: signed only.
    encrypt: Literal["auto", "required", "off"] = "auto"
    timeout_s: float = Field(30.0, gt=0)
    # Group names (or SIDs, S-1-...) whose read access decides an item's audience. The
    # widest audience that can read an item wins (by risk.audience_factors).
    audiences: dict[str, str] = Field(default_factory=lambda: {
        "Everyone": "pupils", "Authenticated Users": "pupils", "Domain Users": "pupils",
        "Users": "pupils", "Pupils": "pupils", "Students": "pupils",
        "Staff": "staff", "Teachers": "staff", "Office": "admin",
    })
    # The accounts.directories entry (an LDAP one) that turns group names into SIDs.
    directory: str | None = None
    # kerberos: log on with a ticket, from `keytab` (0600) or else the ticket cache
    # (KRB5CCNAME) that kinit keeps fresh; no password is read. See connectors/kerberos.py.
    auth: Literal["password", "kerberos"] = "password"
    keytab: Path | None = None


class Scan(_Section):
    max_file_mb: float = Field(100.0, gt=0)
    # Findings scored below this are dropped (0..1).
    score_threshold: float = Field(0.4, ge=0, le=1)
    # 0 = one worker process per core.
    workers: int = Field(0, ge=0)
    # Seconds and MiB each worker may spend on one item before it is stopped.
    item_timeout_s: float = Field(60.0, gt=0)
    item_memory_mb: int = Field(1024, gt=0)
    # Optional spaCy NER for names not on the roster: an installed model package
    # (e.g. en_core_web_sm) or a model folder. Never downloaded at run time.
    ner_model: str | None = None
    # A source whose last scan held at least vanish_min_items files and that now holds
    # fewer than vanish_fraction of them is unavailable (unmounted, emptied by mistake):
    # its last results are kept and nothing counts as removed. `dataward scan
    # --accept-removals` takes such a change as true.
    vanish_min_items: int = Field(1000, ge=1)
    vanish_fraction: float = Field(0.1, ge=0, le=1)


class Risk(_Section):
    """Weights of the risk score: sum(weight x min(count, cap)) x audience factor."""

    entity_weights: dict[str, float] = Field(
        default_factory=lambda: {
            # A named person's health, SEN or safeguarding record is special-category data
            # (UK GDPR art. 9), and an NHS number points into health records: a pupil's
            # medical note (name, date of birth, NHS number, one health term) scores 64,
            # "high", even where only the office can open it.
            "PERSON": 1.0, "UK_UPN": 4.0, "UK_ULN": 3.0, "UK_NHS": 20.0, "UK_NINO": 5.0,
            "UK_PASSPORT": 5.0, "UK_POSTCODE": 1.0, "PHONE_NUMBER": 1.5,
            "EMAIL_ADDRESS": 0.5, "DATE_OF_BIRTH": 3.0, "SPECIAL_CATEGORY": 40.0,
            "GPS_LOCATION": 3.0,
        }
    )
    count_cap: int = 50
    # A finding in a mail header (From, To, Cc, Bcc, Reply-To, Sender) counts this much of
    # one; an address at the school's own domains (school.domains) there counts this much.
    mail_header_weight: float = Field(0.5, ge=0)
    school_address_weight: float = Field(0.05, ge=0)
    audience_factors: dict[str, float] = Field(
        default_factory=lambda: {
            "pupils": 3.0, "public": 4.0, "external-mail": 3.0, "staff": 1.5,
            "internal-mail": 1.0, "admin": 1.0,
        }
    )
    # Lower bounds of each level, checked highest first.
    levels: dict[str, float] = Field(
        default_factory=lambda: {"critical": 200.0, "high": 60.0, "medium": 15.0, "low": 0.01}
    )


class Schedule(_Section):
    cron: str | None = None
    timezone: str = "Europe/London"
    # For tests only: run every N seconds instead of on the cron (see `dataward serve`).
    every_seconds: int | None = Field(None, ge=5)

    @model_validator(mode="after")
    def _cron_or_interval(self) -> Schedule:
        if (self.cron is None) == (self.every_seconds is None):
            raise ValueError("give a cron (or, in tests, every_seconds), not both or neither")
        return self


class Schedules(_Section):
    nightly_scan: Schedule = Schedule(cron="0 1 * * *")
    nightly_backup: Schedule = Schedule(cron="0 3 * * *")
    weekly_verify: Schedule = Schedule(cron="0 5 * * 0")
    weekly_prune: Schedule = Schedule(cron="0 7 * * 0")
    weekly_retention: Schedule = Schedule(cron="0 6 * * 1")
    weekly_accounts: Schedule = Schedule(cron="0 6 * * 2")
    termly_restore_test: Schedule = Schedule(cron="0 7 1 1,4,9 *")


# Read-only default: a shared mutable {} would leak between loads.
_yaml_data: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "yaml", default=MappingProxyType({}))


class _YamlSource(PydanticBaseSettingsSource):
    """The parsed YAML file, below the environment in precedence."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return _yaml_data.get().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_yaml_data.get())


class Settings(BaseSettings):
    """Everything dataward reads from its config file and environment."""

    model_config = SettingsConfigDict(
        env_prefix="DATAWARD_", env_nested_delimiter="__", extra="forbid",
        validate_default=True,
    )

    school: School = School()
    state_dir: Path | None = None
    # SQLAlchemy URL of the ledger; default: SQLite in the state folder.
    database_url: str | None = None
    sources: list[Source] = Field(default_factory=list)
    rosters: list[Roster] = Field(default_factory=list)
    scan: Scan = Scan()
    risk: Risk = Risk()
    schedules: Schedules = Schedules()
    retention: Retention = Retention()
    backup: Backup = Backup()
    transfer: Transfer = Transfer()
    assets: Assets = Assets()
    mail: Mail = Mail()
    ocr: Ocr = Ocr()
    smb: Smb = Smb()
    accounts: Accounts = Accounts()
    remediate: Remediate = Remediate()

    # Where the YAML came from (None: defaults and environment only).
    config_path: Path | None = Field(default=None, exclude=True)
    # A trust sets each school's state folder itself (above $DATAWARD_HOME).
    home_override: Path | None = Field(default=None, exclude=True)

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: list[Source]) -> list[Source]:
        check_unique([s.name for s in sources], "source names")
        return sources

    @model_validator(mode="after")
    def _known_audiences(self) -> Settings:
        """An audience weighs the risk score: one the risk section does not define (a typo)
        would silently weigh 1.0."""
        known = self.risk.audience_factors
        for i, src in enumerate(self.sources):
            if src.audience not in known:
                raise ValueError(f"sources[{i}] ({src.name}): unknown audience {src.audience!r}; "
                                 f"known: {', '.join(known)} (add one under risk.audience_factors)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))

    # ---- derived places -------------------------------------------------------------
    @property
    def home(self) -> Path:
        """The state folder: $DATAWARD_HOME, else state_dir, else the per-user default
        (a trust's school: the folder its trust gives it)."""
        if self.home_override is not None:
            return self.home_override
        env = os.environ.get("DATAWARD_HOME")
        if env:
            return Path(env).expanduser().resolve()
        if self.state_dir is not None:
            return self.state_dir.expanduser().resolve()
        return Path(platformdirs.user_data_dir("dataward")).resolve()

    @property
    def ledger_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'ledger.sqlite'}"

    @property
    def scans_dir(self) -> Path:
        return self.home / "scans"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def fingerprint_key_path(self) -> Path:
        return self.keys_dir / "fingerprint.key"


def default_config_path() -> Path:
    """Where dataward looks for its config when no --config is given."""
    env = os.environ.get("DATAWARD_CONFIG")
    if env:
        return Path(env).expanduser()
    home = os.environ.get("DATAWARD_HOME")
    base = Path(home).expanduser() if home else Path(platformdirs.user_data_dir("dataward"))
    return base / CONFIG_FILE_NAME


def _absolutise(data: Any, base: Path, key: str | None = None) -> Any:
    """Make relative paths in the raw YAML relative to the config file's folder."""
    path_keys = {"path", "state_dir", "leavers_csv", "on_roll_csv", "consent_csv",
                 "schedule_file", "image_roots", "paths", "allowed_roots", "gnupg_home", "gnupghome",
                 "password_file", "staff_csv"}
    if isinstance(data, dict):
        return {k: _absolutise(v, base, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_absolutise(v, base, key) for v in data]
    if isinstance(data, str) and key == "url" and "://" not in data:
        key = "path"  # a backup target given as a local folder
    if isinstance(data, str) and key in path_keys and (data.lower().startswith("smb://")
                                                       or data.startswith("\\\\")):
        return data  # an SMB share, not a local path (refused where only local paths work)
    if isinstance(data, str) and key in path_keys:
        p = Path(data).expanduser()
        return str(p if p.is_absolute() else (base / p))
    return data


def _env_name(loc: tuple[Any, ...]) -> str | None:
    """The DATAWARD_... variable set for a config key (or one of its parents), if any."""
    names = {k.upper(): k for k in os.environ if k.upper().startswith("DATAWARD_")}
    for n in range(len(loc), 0, -1):
        name = "DATAWARD_" + "__".join(str(p).upper() for p in loc[:n])
        if name in names:
            return names[name]
    return None


def _describe(err: ValidationError, origin: str) -> str:
    first = err.errors()[0]
    where = "".join(f"{p}: " if i == len(first["loc"]) - 1 else f"{p}."
                    for i, p in enumerate(first["loc"]))
    env = _env_name(tuple(first["loc"]))
    if env:  # the environment overrides the file: blame the variable
        origin = f"environment variable {env}"
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling against config/dataward.example.yaml)"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"config error in {origin}: {where}{msg}{more}"


def load_settings(path: Path | str | None = None, *, required: bool = False,
                  **overrides: Any) -> Settings:
    """Load the config. ``path=None`` looks in the default place; a missing default
    file gives the defaults (ad-hoc use), a missing named file is an error."""
    explicit = path is not None
    cfg_path = Path(path).expanduser() if path is not None else default_config_path()
    raw: dict[str, Any] = {}
    if cfg_path.exists():
        try:
            loaded = safeyaml.load(cfg_path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark else ""
            what = exc.problem if isinstance(exc, safeyaml.YamlRefused) else "not valid YAML"
            raise ConfigError(f"config error in {cfg_path}: {what}{line}") from None
        except OSError as exc:
            raise ConfigError(f"cannot read config {cfg_path}: {exc.strerror}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config error in {cfg_path}: the top level must be a mapping")
        # A section whose keys are all commented out parses as None: use its defaults.
        loaded = {k: v for k, v in loaded.items() if v is not None}
        raw = _absolutise(loaded, cfg_path.parent.resolve())
    elif explicit or required:
        raise ConfigError(
            f"config file {cfg_path} does not exist",
            hint="run `dataward init` to write a starter config, or pass --config",
        )
    token = _yaml_data.set(raw)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        origin = str(cfg_path) if cfg_path.exists() else "environment"
        raise ConfigError(_describe(exc, origin)) from None
    except SettingsError as exc:  # a DATAWARD_... value that is not valid JSON for its key
        field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else ""
        env = _env_name((field,)) or "DATAWARD_..."
        raise ConfigError(f"config error in environment variable {env}: not valid JSON",
                          hint="a list or mapping set from the environment must be JSON") from None
    finally:
        _yaml_data.reset(token)
    settings.config_path = cfg_path.resolve() if cfg_path.exists() else None
    return settings
