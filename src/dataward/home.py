"""The state folder: where the ledger, scans, keys and logs live.

It is created with mode 0700; secrets inside it are 0600. Every command finds it the
same way (``Settings.home``): ``$DATAWARD_HOME``, else ``state_dir`` in the config, else
a per-user default.
"""
from __future__ import annotations

import logging
import os
import secrets
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, DatawardError
from .settings import CONFIG_FILE_NAME, Settings

if TYPE_CHECKING:  # imported when a ledger is opened: SQLAlchemy is slow to import
    from .ledger import Ledger

KEY_BYTES = 32
log = logging.getLogger("dataward")


PRIVATE_UMASK = 0o077


def private_umask() -> None:
    """Make every file and folder this process creates private to its user (0600/0700),
    whatever umask it was started with: the ledger and its WAL, audit.head, logs,
    Parquet, reports, caches, certificates, the Prefect database, ``--out`` files, and
    what child processes (the Prefect server, gpg) create. Called once at the start of
    the CLI and of ``dataward serve``'s flow process."""
    os.umask(PRIVATE_UMASK)


def ensure_home(settings: Settings) -> Path:
    """Create the state folder (0700) if needed and return it."""
    home = settings.home
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        for sub in ("scans", "keys", "logs"):
            (home / sub).mkdir(exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create the state folder {home}: {exc.strerror}") from None
    return home


def open_ledger(settings: Settings) -> Ledger:
    """The school's ledger, with its state folder made first (CLI and flows alike)."""
    from .ledger import Ledger
    ensure_home(settings)
    return Ledger.for_settings(settings)


def write_secret(path: Path, data: bytes) -> None:
    """Write a secret file with mode 0600 from the start (no window with wider rights)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def fingerprint_key(settings: Settings, *, create: bool = False) -> bytes:
    """The per-school HMAC key behind every fingerprint."""
    path = settings.fingerprint_key_path
    if not path.exists():
        if not create:
            raise ConfigError(
                f"no fingerprint key at {path}",
                hint="run `dataward init` first (it makes the state folder and the key)",
            )
        ensure_home(settings)
        write_secret(path, secrets.token_bytes(KEY_BYTES))
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise DatawardError(f"the fingerprint key {path} is damaged (wrong length)")
    return key


def example_config_text() -> str:
    return resources.files("dataward").joinpath("data/dataward.example.yaml").read_text("utf-8")


def init_home(settings: Settings, config_path: Path | None = None, *,
              force: bool = False) -> tuple[Path, Path, bool]:
    """Make the state folder, the fingerprint key and a starter config.

    Returns (home, config path, whether the config was written). An existing config is
    kept unless ``force``; an existing key is always kept (a new key would orphan every
    fingerprint already written).
    """
    home = ensure_home(settings)
    fingerprint_key(settings, create=True)
    cfg = config_path or home / CONFIG_FILE_NAME
    wrote = False
    if force or not cfg.exists():
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(example_config_text(), encoding="utf-8")
        wrote = True
    return home, cfg, wrote


def setup_logging(settings: Settings, *, verbose: bool = False) -> Path:
    """Log to <home>/logs/dataward.log. Log records hold ids and counts only."""
    ensure_home(settings)
    path = settings.home / "logs" / "dataward.log"
    root = logging.getLogger("dataward")
    if not any(isinstance(h, logging.FileHandler) and h.baseFilename == str(path)
               for h in root.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Third-party parsers may put document text in their messages: keep them quiet.
    for noisy in ("presidio-analyzer", "pypdf", "pdfminer", "PIL", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return path
