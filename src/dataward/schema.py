"""Every table of the ledger, in one place.

Each area of dataward reads and writes its own tables, but they are declared here so that
the schema does not depend on which modules happen to be imported, and so that Alembic
(``dataward/migrations``) can compare a database with what this release expects. A change
to a table here needs a migration there (``tests/foundation/test_migrations.py`` checks).
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# The school a row belongs to. A trust's schools share one ledger; a single school's
# ledger uses DEFAULT_SCHOOL. Tables with this column are read only through it.
DEFAULT_SCHOOL = "default"


def _school_id() -> Column[str]:
    return Column("school_id", String(40), nullable=False, server_default=DEFAULT_SCHOOL)


# ---- The ledger itself: key/value meta, the audit chain, the scan catalog ----

meta_table = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

audit_table = Table(
    "audit", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("ts", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    _school_id(),
)
Index("ix_audit_school_id", audit_table.c.school_id)

scans_table = Table(
    "scans", metadata,
    Column("scan_id", String(40), primary_key=True),
    Column("started", String(32), nullable=False),
    Column("finished", String(32)),
    # running | complete | partial | interrupted | failed
    Column("status", String(20), nullable=False),
    Column("mode", String(20), nullable=False),  # full | incremental
    Column("out_dir", Text, nullable=False),
    Column("items", Integer, default=0),
    Column("items_with_findings", Integer, default=0),
    Column("findings", Integer, default=0),
    Column("errors", Integer, default=0),
    Column("reused", Integer, default=0),
    Column("bytes_read", Integer, default=0),
    Column("summary", Text, default="{}"),
    _school_id(),
)
Index("ix_scans_school_id", scans_table.c.school_id)

# ---- Retention: plans, their items, and the deletion record ------------------

plans_table = Table(
    "retention_plans", metadata,
    Column("plan_id", String(40), primary_key=True),
    Column("created", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("approved_by", String(200)),
    Column("approved_at", String(32)),
    Column("approved_digest", String(64)),
    Column("applied_at", String(32)),
    Column("digest", String(64), nullable=False),
    Column("rules_digest", String(64), nullable=False),
    Column("inputs", Text, nullable=False),  # JSON: export file names and their SHA-256
    Column("roots", Text, nullable=False),  # JSON list of image roots
    Column("counts", Text, nullable=False),  # JSON: reason code -> images
    Column("images", Integer, nullable=False),
    Column("due", Integer, nullable=False),
    Column("due_bytes", Integer, nullable=False),
    Column("warnings", Text, nullable=False),  # JSON list (line numbers, never values)
)

items_table = Table(
    "retention_items", metadata,
    Column("plan_id", String(40), primary_key=True),
    Column("item_no", Integer, primary_key=True, autoincrement=False),
    Column("root", Text, nullable=False),
    Column("rel", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("mtime_ns", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("pupils", Text, nullable=False),  # JSON list of pupil references
    Column("matched_by", Text, nullable=False),
    Column("due_on", String(10)),
    Column("state", String(16), nullable=False),
    Column("qpath", Text),  # path inside the quarantine folder of its root
    Column("quarantined_at", String(32)),
    Column("restored_at", String(32)),
    Column("purged_at", String(32)),
)

deletions_table = Table(
    "retention_deletions", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(40), nullable=False),
    Column("item_no", Integer, nullable=False),
    Column("path", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("approved_by", String(200), nullable=False),
    Column("quarantined_at", String(32), nullable=False),
    Column("purged_at", String(32), nullable=False),
    Column("method", String(60), nullable=False),
)

# ---- Assets: the register, erasure evidence, disposals -----------------------

assets_table = Table(
    "assets", metadata,
    Column("tag", String(100), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("make", String(200), nullable=False, default=""),
    Column("model", String(200), nullable=False, default=""),
    Column("serial", String(200), nullable=False, default=""),
    Column("storage_serials", Text, nullable=False, default="[]"),  # JSON list
    Column("location", String(200), nullable=False, default=""),
    Column("assigned_to", String(200), nullable=False, default=""),
    Column("purchase_date", String(10)),  # ISO date or NULL
    Column("has_storage", Integer, nullable=False, default=1),
    Column("status", String(20), nullable=False, default="in-use"),  # in-use | disposed
    Column("created", String(32), nullable=False),
    Column("updated", String(32), nullable=False),
)

evidence_table = Table(
    "asset_evidence", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("kind", String(30), nullable=False),  # nwipe-log | pdf | other
    Column("size", Integer, nullable=False),
    Column("file_name", String(300), nullable=False),
    Column("stored_path", Text, nullable=False),
    Column("added", String(32), nullable=False),
    Column("summary", Text, nullable=False, default="{}"),  # JSON: parsed wipe results
)

disposals_table = Table(
    "asset_disposals", metadata,
    Column("disposal_id", String(40), primary_key=True),
    # unique: an asset is disposed of once
    Column("tag", String(100), ForeignKey("assets.tag"), nullable=False, unique=True),
    Column("disposed_on", String(10), nullable=False),  # ISO date
    Column("method", String(20), nullable=False),  # clear | purge | destroy
    Column("route", String(20), nullable=False),  # waste | gift | sale | return
    Column("recorded", String(32), nullable=False),
    # The canonical JSON of the certificate: the register's copy of what was signed.
    Column("certificate", Text, nullable=False),
    Column("json_path", Text, nullable=False),
    Column("json_sha256", String(64), nullable=False),
    Column("pdf_path", Text, nullable=False),
    Column("pdf_sha256", String(64), nullable=False),
    Column("signing_key", String(64), nullable=False),
    Column("audit_seq", Integer, nullable=False),
)

disposal_evidence_table = Table(
    "asset_disposal_evidence", metadata,
    Column("disposal_id", String(40), ForeignKey("asset_disposals.disposal_id"),
           primary_key=True),
    Column("sha256", String(64), ForeignKey("asset_evidence.sha256"), primary_key=True),
    Column("role", String(30), nullable=False),  # erasure | destruction | pat | receipt
)

# ---- Backups: snapshots taken and restore tests ------------------------------

backup_snapshots = Table(
    "backup_snapshots", metadata,
    Column("snapshot_id", String(64), primary_key=True),
    Column("target", String(200), primary_key=True),
    Column("time", String(32), nullable=False),
    Column("status", String(20), nullable=False),  # complete | partial
    Column("files", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("bytes_new", Integer, nullable=False),
    Column("bytes_uploaded", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("seconds", Integer, nullable=False),
    _school_id(),
)
Index("ix_backup_snapshots_school_id", backup_snapshots.c.school_id)

backup_restore_tests = Table(
    "backup_restore_tests", metadata,
    Column("test_id", Integer, primary_key=True, autoincrement=True),
    Column("time", String(32), nullable=False),
    Column("target", String(200), nullable=False),
    Column("snapshot_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # passed | failed
    Column("files_checked", Integer, nullable=False),
    Column("files_matched", Integer, nullable=False),
    Column("files_failed", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    _school_id(),
)
Index("ix_backup_restore_tests_school_id", backup_restore_tests.c.school_id)

# ---- Transfer packages -------------------------------------------------------

packages_table = Table(
    "transfer_packages", metadata,
    Column("package_id", String(16), primary_key=True),
    Column("created", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("recipient", String(300), nullable=False),
    Column("purpose", Text, nullable=False, default=""),
    Column("method", String(16), nullable=False),          # password | openpgp
    Column("key_fingerprint", String(64)),                  # openpgp only
    Column("file_name", String(200), nullable=False),       # transfer-<date>-<id>.zip[.gpg]
    Column("file_count", Integer, nullable=False),
    Column("total_size", Integer, nullable=False),
    Column("package_size", Integer, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("package_sha256", String(64), nullable=False),
    Column("scan_status", String(20), nullable=False),      # scanned | unavailable | off
    Column("entity_counts", Text, nullable=False, default="{}"),
    Column("status", String(20), nullable=False),           # awaiting | confirmed
    Column("confirmed", String(32)),
    Column("confirmed_by", String(200)),
)

# ---- DPO review decisions (dataward.review) ---------------------------------
# No path is stored: the item is found again by its report id (keyed hash of its locator),
# then by inode with size and mtime or content hash (a rename or move), then by content hash.

review_decisions = Table(
    "review_decisions", metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("decided_at", String(32), nullable=False),
    Column("decided_by", String(200), nullable=False),      # the name typed with --by
    Column("os_user", String(200), nullable=False),
    Column("kind", String(20), nullable=False),             # accepted | to-fix | false-positive
    Column("item_id", String(16), nullable=False),
    Column("scan_id", String(40), nullable=False),
    Column("source", String(200), nullable=False),
    Column("inode", BigInteger),
    Column("size", BigInteger),
    Column("mtime_ns", BigInteger),
    Column("sha256", String(64), nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("owner", String(200), nullable=False, default=""),
    Column("expires", String(10)),                          # accepted: YYYY-MM-DD
    Column("entity_type", String(40)),                      # false-positive: the finding
    Column("fingerprint", String(64)),
    # the report's next-step rule of the item when decided (report_rules.RULES id); a
    # later scan where it no longer applies counts the item as fixed
    Column("problem", String(40)),
    # `dataward review withdraw`: a withdrawn decision no longer counts
    Column("withdrawn_at", String(32)),
    Column("withdrawn_by", String(200)),
    Column("withdrawn_os_user", String(200)),
)

# ---- Subject access requests (dataward.sar) ---------------------------------
# The person is held as fingerprints (what the scans' findings hold) and a masked name.

sar_requests = Table(
    "sar_requests", metadata,
    Column("sar_id", String(16), primary_key=True),
    Column("opened_at", String(32), nullable=False),
    Column("opened_by", String(200), nullable=False),       # the name typed with --by
    Column("os_user", String(200), nullable=False),
    Column("received", String(10), nullable=False),         # YYYY-MM-DD
    Column("due", String(10), nullable=False),
    Column("subject", String(200), nullable=False),         # masked name, e.g. A***** K***
    Column("fingerprints", Text, nullable=False),           # JSON {fingerprint: entity type}
    Column("status", String(10), nullable=False),           # open | closed
    Column("closed_at", String(32)),
    Column("package_id", String(16)),
)

# ---- Remediation: moves into a restricted folder, renames of images (dataward.remediate)

remediation_plans = Table(
    "remediation_plans", metadata,
    Column("plan_id", String(40), primary_key=True),
    Column("created", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("action", String(20), nullable=False),           # move | rename
    Column("dest_root", Text, nullable=False),              # move: the secure root
    Column("note", Text, nullable=False, default=""),       # move: left as MOVED-<id>.txt
    Column("status", String(20), nullable=False),           # planned | approved | applied | undone
    Column("approved_by", String(200)),
    Column("approved_os_user", String(200)),
    Column("approved_at", String(32)),
)

remediation_items = Table(
    "remediation_items", metadata,
    Column("plan_id", String(40), ForeignKey("remediation_plans.plan_id"), primary_key=True),
    Column("item_no", Integer, primary_key=True, autoincrement=False),
    Column("item_id", String(16), nullable=False),
    Column("root", Text, nullable=False),
    Column("rel", Text, nullable=False),
    Column("dest_root", Text, nullable=False),
    Column("dest_rel", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    # planned | copying | placed | done | undo-copying | undo-placed | undone
    # (copying/placed: the steps of a move across file systems)
    Column("state", String(16), nullable=False),
    # rename: whether the old name was written into the image's own metadata, and how
    Column("metadata_status", Text, nullable=False, server_default=""),
    Column("new_sha256", String(64), nullable=False, server_default=""),  # content after it
)

# ---- Leavers' accounts: audits (counts only), disable plans and their items ----

accounts_audits_table = Table(
    "accounts_audits", metadata,
    Column("audit_id", String(40), primary_key=True),
    Column("created", String(32), nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("accounts", Integer, nullable=False),
    Column("counts", Text, nullable=False),      # JSON: finding kind -> accounts
    Column("directories", Text, nullable=False),  # JSON: directory names
)

accounts_plans_table = Table(
    "accounts_plans", metadata,
    Column("plan_id", String(40), primary_key=True),
    Column("audit_id", String(40), nullable=False),
    Column("created", String(32), nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("approved_by", String(200)),
    Column("approved_os_user", String(200)),
    Column("approved_at", String(32)),
    Column("applied_at", String(32)),
    Column("items", Integer, nullable=False),
)

accounts_items_table = Table(
    "accounts_plan_items", metadata,
    Column("plan_id", String(40), primary_key=True),
    Column("item_no", Integer, primary_key=True, autoincrement=False),
    Column("directory", String(100), nullable=False),
    Column("account_key", String(100), nullable=False),
    Column("masked", String(200), nullable=False),
    Column("person", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("uac_before", Integer),
    Column("state", String(16), nullable=False),
    Column("changed_at", String(32)),
)
