"""Prefect flows for backups: thin wrappers around backup.

Tasks never persist results (``persist_result=False``) and return summaries only:
counts, sizes and snapshot ids. Transient errors (network, busy server, a held lock)
are retried; integrity and key errors are not.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from .common import load as _settings
from .common import retry_if_transient as _retry_if_transient


@task(persist_result=False, retries=2, retry_delay_seconds=60,
      retry_condition_fn=_retry_if_transient)
def backup_targets(config: str | None, target: str | None) -> list[dict[str, Any]]:
    from ..backup.service import backup_run
    results = backup_run(_settings(config), target=target)
    return [{"target": r.target, "snapshot": r.snapshot_id[:8], "files": r.files,
             "unchanged": r.files_unchanged, "bytes": r.bytes, "bytes_new": r.bytes_new,
             "uploaded": r.bytes_uploaded, "seconds": round(r.seconds, 1)} for r in results]


@task(persist_result=False, retries=2, retry_delay_seconds=60,
      retry_condition_fn=_retry_if_transient)
def verify_targets(config: str | None, target: str | None, read_data: float) -> list[dict[str, Any]]:
    from ..backup.service import backup_verify
    return [{"target": r.target, "ok": r.ok, "problems": len(r.problems),
             "snapshots": r.snapshots, "packs": r.packs, "packs_read": r.packs_read}
            for r in backup_verify(_settings(config), target=target, read_data=read_data)]


@task(persist_result=False)
def restore_sample(config: str | None, target: str | None, gnupghome: str | None,
                   files: int | None) -> dict[str, Any]:
    from ..backup.restore_test import restore_test
    rec = restore_test(_settings(config), target=target,
                       gnupghome=Path(gnupghome) if gnupghome else None, sample=files)
    return {"target": rec.target, "snapshot": rec.snapshot_id[:8], "status": rec.status,
            "checked": rec.files_checked, "matched": rec.files_matched,
            "failed": rec.files_failed}


@task(persist_result=False, retries=2, retry_delay_seconds=300,
      retry_condition_fn=_retry_if_transient)
def prune_targets(config: str | None, target: str | None) -> list[dict[str, Any]]:
    from ..backup.service import backup_prune
    rows = []
    for t, plan, result in backup_prune(_settings(config), target=target, apply=True):
        ends = [u for _, u in plan.locked] + [u for _, u in plan.held]
        rows.append({"target": t.name,
                     "snapshots_deleted": result.snapshots_deleted if result else 0,
                     "snapshots_held": len(plan.held),
                     "packs_deleted": result.packs_deleted if result else 0,
                     "packs_locked": len(plan.locked),
                     "last_lock_ends": max(ends).strftime("%Y-%m-%d %H:%M") if ends else "",
                     "refused": result.refused if result else 0})
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(nothing)"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


@flow(name="nightly-backup", persist_result=False, log_prints=False)
def nightly_backup(config: str | None = None, target: str | None = None) -> list[dict[str, Any]]:
    """Back up the configured paths to every target."""
    rows = backup_targets(config, target)
    create_markdown_artifact(key="nightly-backup", markdown=_table(rows),
                             description="Snapshots written (counts only)")
    return rows


@flow(name="weekly-verify", persist_result=False, log_prints=False)
def weekly_verify(config: str | None = None, target: str | None = None,
                  read_data: float = 10.0) -> list[dict[str, Any]]:
    """Check every target's structure and a random tenth of its packs."""
    rows = verify_targets(config, target, read_data)
    create_markdown_artifact(key="weekly-verify", markdown=_table(rows),
                             description="Backup verification (counts only)")
    bad = sum(r["problems"] for r in rows)
    if bad:
        from ..errors import IntegrityError
        raise IntegrityError(f"backup verification found {bad} problems")
    return rows


@flow(name="weekly-prune", persist_result=False, log_prints=False)
def weekly_prune(config: str | None = None, target: str | None = None,
                 read_data: float = 10.0) -> list[dict[str, Any]]:
    """Verify every target, then apply the retention policy (prune) where verify passed.

    Objects still under Object Lock are kept and listed with the day their lock ends."""
    checked = verify_targets(config, target, read_data)
    clean = [r for r in checked if r["ok"]]
    if len(clean) != len(checked):
        from ..errors import IntegrityError
        raise IntegrityError(f"prune skipped: verify found problems on "
                             f"{len(checked) - len(clean)} targets (run `dataward backup verify`)")
    rows = prune_targets(config, target)
    create_markdown_artifact(key="weekly-prune", markdown=_table(rows),
                             description="Backup prune after verify (counts only)")
    return rows


@flow(name="termly-restore-test", persist_result=False, log_prints=False)
def termly_restore_test(config: str | None = None, target: str | None = None,
                        gnupghome: str | None = None, files: int | None = None) -> dict[str, Any]:
    """Restore a random sample to a scratch folder, compare hashes, log it in the ledger."""
    row = restore_sample(config, target, gnupghome, files)
    create_markdown_artifact(key="termly-restore-test", markdown=_table([row]),
                             description="Restore test (counts only)")
    return row
