"""The config sections of the jobs beside the scan (retention, backup, transfer, mail,
text recognition, directories and accounts, remediation, assets), as pydantic models.

``dataward.settings`` holds the scan's sections, the whole ``Settings`` and the one
loader, and re-exports every class here: import them from ``dataward.settings``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Retention(_Section):
    """Images of pupils who have left: where they are, the MIS exports, the safety dials."""

    leavers_csv: Path | None = None
    on_roll_csv: Path | None = None
    consent_csv: Path | None = None
    image_roots: list[Path] = Field(default_factory=list)
    schedule_file: Path | None = None  # default: the shipped config/retention-schedule.yaml
    grace_days: int = Field(90, ge=0)
    # File name endings (lower case) that count as images.
    image_extensions: list[str] = Field(default_factory=lambda: [
        ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp", ".gif", ".bmp"])
    # Read EXIF/XMP/IPTC people and keyword tags (slower than names alone).
    read_tags: bool = True
    # Folder made inside each image root (same volume) to hold quarantined files.
    quarantine_dirname: str = Field(".dataward-quarantine", min_length=1)
    # When not empty, only these people may approve a plan (the name typed with --by).
    approvers: list[str] = Field(default_factory=list)
    # When not empty, only these operating-system accounts may approve, and only with
    # `dataward retention approve` (the Prefect UI cannot show who is at the keyboard).
    approver_accounts: list[str] = Field(default_factory=list)

    @field_validator("quarantine_dirname")
    @classmethod
    def _plain_dirname(cls, v: str) -> str:
        if "/" in v or "\\" in v or v in (".", ".."):
            raise ValueError("must be a plain folder name, not a path")
        return v


class BackupTarget(_Section):
    name: str
    url: str  # a local folder path, or s3://bucket/prefix
    endpoint_url: str | None = None
    region: str | None = None
    # AWS credentials profile (~/.aws); default: the environment / instance role.
    profile: str | None = None
    # Object Lock (COMPLIANCE) days for every object written; 0 = no lock. S3 only.
    object_lock_days: int = Field(0, ge=0)


class Backup(_Section):
    paths: list[Path] = Field(default_factory=list)
    targets: list[BackupTarget] = Field(default_factory=list)
    exclude: list[str] = Field(
        default_factory=lambda: ["**/~$*", "**/Thumbs.db", "**/.DS_Store", "**/desktop.ini"])
    keep_last: int = Field(0, ge=0)
    keep_daily: int = Field(7, ge=0)
    keep_weekly: int = Field(5, ge=0)
    keep_monthly: int = Field(12, ge=0)
    keep_yearly: int = Field(7, ge=0)
    # OpenPGP fingerprints the repository keys are wrapped to (the head's, the trust's).
    recovery_keys: list[str] = Field(default_factory=list)
    # Keyring holding the recovery public keys (and, for restores, a secret key).
    gnupghome: Path | None = None
    # True: the server keeps only the keys to add backups, never to read them.
    write_only: bool = True
    chunk_avg_kib: int = Field(1024, ge=64, le=4096)
    pack_size_mb: float = Field(16.0, gt=0, le=512)
    zstd_level: int = Field(3, ge=1, le=19)
    # Files the termly restore test restores and compares with the source.
    restore_test_files: int = Field(20, ge=1)
    # Repository locks (restic's protocol): refreshed this often, stale after this long
    # without a refresh. Lower them only for tests.
    lock_refresh_seconds: float = Field(300.0, gt=0)
    lock_stale_seconds: float = Field(1800.0, gt=0)
    # A backup run waits this long for a prune's exclusive lock before giving up (exit 11).
    lock_wait_seconds: float = Field(600.0, ge=0)


class Transfer(_Section):
    """Encrypted transfer packages (`dataward package ...`)."""

    # Folders files may be packaged from; empty: the folders of the `share` sources.
    allowed_roots: list[Path] = Field(default_factory=list)
    # Largest package (the encrypted file) in MB; DfE S2S takes 4 MB a file.
    max_package_mb: float = Field(4.0, gt=0)
    # Per-recipient limits in MB, by the --to name (case-insensitive); override the above.
    recipient_limits_mb: dict[str, float] = Field(default_factory=dict)
    # `package list` flags packages unconfirmed for longer than this.
    awaiting_days: int = Field(7, ge=0)
    # Words in a generated passphrase (EFF long list, ~12.9 bits a word).
    passphrase_words: int = Field(6, ge=6, le=20)
    # A supplied password must reach this estimated strength (6 EFF words: 77.5 bits).
    min_password_bits: float = Field(77.0, ge=77.0)
    # GnuPG home with the recipients' public keys (absolute path); default: gpg's own.
    gnupg_home: Path | None = None
    # Hide the recipient's key id in OpenPGP packages by default (gpg --hidden-recipient).
    hide_recipient: bool = False
    # Deflate level of the inner archive (already-compressed formats are stored).
    compress_level: int = Field(6, ge=0, le=9)
    # Run dataward's classifiers over the files first (counts go to the ledger).
    scan_before_packaging: bool = True

    @field_validator("recipient_limits_mb")
    @classmethod
    def _positive_limits(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, mb in v.items() if mb <= 0]
        if bad:
            raise ValueError(f"limits must be above 0 MB: {', '.join(bad)}")
        return {k.strip().lower(): mb for k, mb in v.items()}

    def limit_mb_for(self, recipient: str) -> float:
        return self.recipient_limits_mb.get(recipient.strip().lower(), self.max_package_mb)


class Mail(_Section):
    """Mail exports (sources of kind mbox, eml, msg, pst) and mail found on shares."""

    # Messages older than this many days are flagged (the mail retention); 0 = no check.
    retention_days: int = Field(730, ge=0)
    # Attachments larger than this are recorded as skipped, not read.
    max_attachment_mb: float = Field(25.0, gt=0)


class Remediate(_Section):
    """Fixes dataward makes (`dataward remediate ...`)."""

    # A rename of an image whose file name names a pupil writes the old name into the
    # image's own metadata (EXIF/XMP description for JPEG, iTXt for PNG, TIFF tag); off:
    # the name is gone with the rename.
    keep_name_in_metadata: bool = False


class Ocr(_Section):
    """Text recognition (Tesseract) for scanned paper: image-only PDF pages, TIFF faxes and
    images that look like documents (docs/ocr.md says how they are chosen)."""

    enabled: bool = True
    # The tesseract program (a name on PATH or a full path) and its language data.
    tesseract_cmd: str = "tesseract"
    language: str = "eng"
    # Caps: an item over one is read in part and marked `partial`.
    max_pages_per_item: int = Field(20, ge=1)
    page_timeout_s: float = Field(30.0, gt=0)
    # Images larger than this are not decoded for recognition (decompression bombs).
    max_megapixels: float = Field(60.0, gt=0)
    # Recognition time one scan run (the nightly scan) may spend, over all its workers;
    # 0 = no limit. Items left when it is spent are `partial` and read at the next scan.
    scan_budget_minutes: float = Field(120.0, ge=0)
    # A PDF page with fewer letters and digits than this in its text layer, and ink on
    # the page, is recognised as an image.
    min_text_chars: int = Field(40, ge=0)


class Directory(_Section):
    """A user directory: Active Directory over LDAP, or a CSV export of users from
    Google Workspace (Admin console > Users > Download) or Microsoft 365 (Active users >
    Export users)."""

    name: str
    kind: Literal["ldap", "google-csv", "m365-csv"]
    url: str | None = None          # ldap://dc.school.local or ldaps://...
    base_dn: str | None = None      # DC=school,DC=local (default: the server's naming context)
    bind_user: str | None = None    # DOMAIN\\user or user@realm
    password_file: Path | None = None  # 0600 or 0400, never group/world readable
    password_env: str = "DATAWARD_LDAP_PASSWORD"
    start_tls: bool = False
    timeout_s: float = Field(30.0, gt=0)
    path: Path | None = None        # the CSV export (google-csv, m365-csv)
    # ldap: `kerberos` binds with SASL GSSAPI (a ticket from `keytab`, else KRB5CCNAME).
    auth: Literal["simple", "kerberos"] = "simple"
    keytab: Path | None = None

    @model_validator(mode="after")
    def _where(self) -> Directory:
        if self.kind == "ldap" and not self.url:
            raise ValueError(f"directory {self.name}: an ldap directory needs url")
        if self.kind != "ldap" and self.path is None:
            raise ValueError(f"directory {self.name}: a {self.kind} directory needs path")
        return self


class Accounts(_Section):
    """Leavers' accounts: the MIS leavers (retention.leavers_csv and staff_csv) against
    the directories."""

    directories: list[Directory] = Field(default_factory=list)
    # MIS staff export: one row per member of staff, with a leaving date for leavers.
    staff_csv: Path | None = None
    disable_within_days: int = Field(30, ge=0)
    # Shared or generic accounts must change their password at least this often.
    password_max_age_days: int = Field(365, ge=1)
    # Account names (globs, case-insensitive) of shared or generic accounts.
    shared_accounts: list[str] = Field(default_factory=lambda: [
        "office*", "admin*", "reception*", "head*", "class*", "year*", "staff*", "ict*",
        "supply*", "guest*", "exam*", "library*", "info*", "teacher*", "student*", "pupil*"])
    # Built-in and service accounts that match no person on purpose (globs).
    ignore: list[str] = Field(default_factory=lambda: [
        "administrator", "guest", "krbtgt", "svc-*", "svc_*", "*$"])
    # When not empty, only these people may approve a disable plan.
    approvers: list[str] = Field(default_factory=list)


class Assets(_Section):
    """Asset register, erasure evidence and signed disposal certificates."""

    signing_key: str | None = None  # OpenPGP fingerprint of the school's signing key
    # GnuPG home holding that key (absolute path); default: gpg's own ($GNUPGHOME, ~/.gnupg).
    gnupg_home: Path | None = None
    # A PAT test older than this (days before the disposal date) does not count.
    pat_max_age_days: int = Field(365, ge=1)
    # Evidence files larger than this are refused (vendor certificates are small).
    evidence_max_mb: float = Field(50.0, gt=0)


def check_unique(values: list[str], what: str) -> None:
    """A validator's check that no value repeats (source names, a trust's school ids)."""
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise ValueError(f"{what} must be unique; repeated: {', '.join(dupes)}")
