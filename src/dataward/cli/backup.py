"""`dataward backup ...`: encrypted, deduplicated, immutable off-site backups."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from .common import console, get_settings, out, progress

backup_app = typer.Typer(
    help="Encrypted, deduplicated backups to folders and S3 buckets (with Object Lock): "
         "init, run, list, restore, verify, prune, unlock, repair.", no_args_is_help=True)

TargetOpt = Annotated[Optional[str], typer.Option(
    "--target", "-t", help="A configured target's name, a folder, or s3://bucket/prefix "
                           "(default: every configured target).")]
GnupgOpt = Annotated[Optional[Path], typer.Option(
    "--gnupghome", help="GnuPG home holding a recovery key (default: backup.gnupghome, "
                        "then gpg's own).")]
LockDaysOpt = Annotated[Optional[int], typer.Option(
    "--object-lock-days", min=1, help="For an ad hoc s3:// --target on a bucket with Object "
                                      "Lock: lock every object written for this many days.")]
PassOpt = Annotated[Optional[str], typer.Option(
    "--passphrase-env", help="Name of an environment variable holding the recovery key's "
                             "passphrase.")]


def _passphrase(env: str | None) -> str | None:
    import os
    return os.environ.get(env) if env else None


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


@backup_app.command("init")
def init(
    ctx: typer.Context,
    target: TargetOpt = None,
    recovery_key: Annotated[Optional[list[str]], typer.Option(
        "--recovery-key", help="Fingerprint of a recovery key (repeatable; default: "
                               "backup.recovery_keys).")] = None,
    gnupghome: GnupgOpt = None,
    join: Annotated[bool, typer.Option(
        "--join", help="The repository exists (a rebuilt server): open its keys once with "
                       "a recovery key (--gnupghome) and keep the writer keys here.")] = False,
    passphrase_env: PassOpt = None,
    object_lock_days: LockDaysOpt = None,
) -> None:
    """Create a repository at each target, its keys wrapped to the recovery keys.

    Example: dataward backup init --target /mnt/usb/backup --recovery-key 0123...CDEF
    """
    from ..backup.service import init_target, join_target, resolve_targets
    s = get_settings(ctx)
    for t in resolve_targets(s, target, object_lock_days=object_lock_days, writing=not join):
        if join:
            with join_target(s, t, gnupghome=gnupghome,
                             passphrase=_passphrase(passphrase_env)) as repo:
                out.print(f"{t.name}: this server can now write to repository {repo.id} "
                          f"at {t.store.describe()}")
            continue
        with init_target(s, t, recovery_keys=recovery_key, gnupghome=gnupghome) as repo:
            mode = "write-only" if s.backup.write_only else "full keys on this server"
            out.print(f"{t.name}: repository {repo.id} created at {t.store.describe()} ({mode}; "
                      f"keys wrapped to {len(repo.config['recipients'])} recovery key(s))")


@backup_app.command("run")
def run(
    ctx: typer.Context,
    sources: Annotated[Optional[list[Path]], typer.Argument(
        help="Folders to back up (default: backup.paths).")] = None,
    target: TargetOpt = None,
    recovery_key: Annotated[Optional[list[str]], typer.Option(
        "--recovery-key", help="Initialise a new target wrapped to this key (repeatable).")] = None,
    gnupghome: GnupgOpt = None,
    object_lock_days: LockDaysOpt = None,
) -> None:
    """Back up the sources to every target: only new chunks are uploaded, encrypted.

    Example: dataward backup run --target s3://school-backups/oakfield /srv/shares/staff
    """
    from rich.progress import DownloadColumn
    from ..backup.service import backup_run
    s = get_settings(ctx)
    with progress(extra=[DownloadColumn()]) as bar:
        def make(name: str):
            task = bar.add_task(f"backup to {name}", total=None)
            return lambda done, files: bar.update(task, completed=done)
        results = backup_run(s, target=target, sources=sources, recovery_keys=recovery_key,
                             gnupghome=gnupghome, object_lock_days=object_lock_days,
                             progress=make)
    for r in results:
        out.print(f"{r.target}: snapshot {r.snapshot_id[:8]} saved: {r.files} files "
                  f"({r.files_unchanged} unchanged), {_mb(r.bytes)}; new data {_mb(r.bytes_new)}, "
                  f"uploaded {_mb(r.bytes_uploaded)} in {r.packs_uploaded} packs, "
                  f"{r.seconds:.1f} s")


@backup_app.command("list")
def list_(ctx: typer.Context, target: TargetOpt = None) -> None:
    """List the snapshots in each target (no file names: those need a recovery key).

    Example: dataward backup list --target offsite
    """
    from rich.table import Table
    from ..backup.service import backup_list
    for t, snaps in backup_list(get_settings(ctx), target=target):
        table = Table("id", "time (UTC)", "host", "files", "size", "paths", title=t.name)
        for sn in snaps:
            table.add_row(sn.short_id, sn.time.strftime("%Y-%m-%d %H:%M:%S"), sn.host,
                          str(sn.files), _mb(sn.bytes), ", ".join(sn.paths))
        out.print(table)


@backup_app.command("restore")
def restore(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Argument(help="Snapshot id (a prefix will do) or `latest`.")],
    paths: Annotated[Optional[list[str]], typer.Argument(
        help="Only these original paths (files or folders).")] = None,
    to: Annotated[Path, typer.Option("--to", help="Folder to restore into.")] = Path("restore"),
    target: TargetOpt = None,
    gnupghome: GnupgOpt = None,
    passphrase_env: PassOpt = None,
    overwrite: Annotated[bool, typer.Option(help="Replace files that exist in --to.")] = False,
) -> None:
    """Restore a snapshot (or some paths of it) byte for byte, with modes and mtimes.

    Example: dataward backup restore latest /srv/shares/admin --to /tmp/restore --gnupghome ~/.gnupg
    """
    from rich.progress import DownloadColumn
    from ..errors import IntegrityError
    from ..backup.service import backup_restore
    s = get_settings(ctx)
    with progress(extra=[DownloadColumn()]) as bar:
        task = bar.add_task("restore", total=None)
        result = backup_restore(s, snapshot, to, paths=paths, target=target,
                                gnupghome=gnupghome, passphrase=_passphrase(passphrase_env),
                                overwrite=overwrite,
                                progress=lambda done, n: bar.update(task, completed=done))
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(str(w))}")
    out.print(f"restored {result.files} files, {result.dirs} folders, {result.symlinks} symlinks "
              f"({_mb(result.bytes)}) from snapshot {result.snapshot_id[:8]} into {to}")
    if result.damaged:
        report = Path(to) / "dataward-restore-damaged.txt"
        report.write_text("".join(p + "\n" for p in result.damaged), errors="surrogateescape")
        raise IntegrityError(
            f"{len(result.damaged)} files were NOT restored because their backed-up data is "
            f"damaged or missing; their paths are listed in {report}",
            hint="run `dataward backup verify --read-data 100` and restore them from an "
                 "older snapshot or another target")


@backup_app.command("verify")
def verify(
    ctx: typer.Context,
    target: TargetOpt = None,
    read_data: Annotated[float, typer.Option(
        "--read-data", min=0, max=100, help="Also download and check this percentage of "
                                            "the packs (0-100).")] = 0.0,
    gnupghome: GnupgOpt = None,
    passphrase_env: PassOpt = None,
) -> None:
    """Check the repository; with --read-data, check the data too. Exit 6 on damage.

    Example: dataward backup verify --read-data 10
    """
    from ..errors import IntegrityError
    from ..backup.service import backup_verify
    results = backup_verify(get_settings(ctx), target=target, read_data=read_data,
                            gnupghome=gnupghome, passphrase=_passphrase(passphrase_env))
    bad = 0
    for r in results:
        for w in r.warnings:
            console.print(f"[yellow]warning:[/] {escape(f'{r.target}: {w}')}")
        for p in r.problems:
            out.print(f"damaged: {r.target}: {p}", style="red")
        bad += len(r.problems)
        out.print(f"{r.target}: {r.snapshots} snapshots, {r.indexes} indexes, {r.packs} packs; "
                  f"{r.packs_read} packs read, {r.chunks_decrypted} chunks decrypted: "
                  + ("ok" if r.ok else f"{len(r.problems)} problems"))
    if bad:
        raise IntegrityError(f"verify found {bad} problems: the repository was altered or damaged")


@backup_app.command("prune")
def prune(
    ctx: typer.Context,
    target: TargetOpt = None,
    apply: Annotated[bool, typer.Option("--apply", help="Carry out the plan (default: only "
                                                        "show it).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the plan (the "
                                                            "default).")] = False,
    keep_last: Annotated[Optional[int], typer.Option(help="Override backup.keep_last.")] = None,
    keep_daily: Annotated[Optional[int], typer.Option(help="Override backup.keep_daily.")] = None,
    keep_weekly: Annotated[Optional[int], typer.Option(help="Override backup.keep_weekly.")] = None,
    keep_monthly: Annotated[Optional[int], typer.Option(help="Override backup.keep_monthly.")] = None,
    keep_yearly: Annotated[Optional[int], typer.Option(help="Override backup.keep_yearly.")] = None,
) -> None:
    """Apply the retention policy: show why each snapshot is kept; delete only with --apply.

    Example: dataward backup prune --keep-daily 7 --keep-weekly 5 --apply
    """
    from ..errors import UsageError
    from ..backup.service import backup_prune, policy_from
    if apply and dry_run:
        raise UsageError("--apply and --dry-run contradict each other")
    s = get_settings(ctx)
    policy = policy_from(s, keep_last=keep_last, keep_daily=keep_daily, keep_weekly=keep_weekly,
                         keep_monthly=keep_monthly, keep_yearly=keep_yearly)
    for t, plan, result in backup_prune(s, target=target, apply=apply, policy=policy):
        out.print(t.name, style="bold")
        for snap, reasons in plan.decision.keep:
            out.print(f"  keep   {snap.id[:8]} {snap.time:%Y-%m-%d %H:%M}  ({', '.join(reasons)})")
        for sid, until in plan.held:
            out.print(f"  held   {sid[:8]}  (dropped by the policy, but locked until {until:%Y-%m-%d})")
        for key, until in plan.locked:
            out.print(f"  locked {key.split('/')[0].rstrip('s')} {key.split('/')[1][:12]}  "
                      f"(no longer needed, kept until its lock ends {until:%Y-%m-%d %H:%M})")
        for sid in plan.forget:
            out.print(f"  remove {sid[:8]}")
        out.print(f"  packs: {len(plan.keep_packs)} kept ({plan.locked_packs} only for their lock), "
                  f"{len(plan.delete_packs)} to delete; about {_mb(plan.bytes_freed)} freed")
        if result is None:
            out.print("  dry run: nothing deleted (add --apply to carry out this plan)")
        else:
            out.print(f"  deleted {result.snapshots_deleted} snapshots and {result.packs_deleted} "
                      f"packs; {result.refused} deletions refused by a lock")


@backup_app.command("restore-test")
def restore_test(
    ctx: typer.Context,
    target: TargetOpt = None,
    files: Annotated[Optional[int], typer.Option(help="How many files to sample.")] = None,
    gnupghome: GnupgOpt = None,
    passphrase_env: PassOpt = None,
) -> None:
    """Restore a random sample of the latest snapshot, compare it with the source, log it.

    Example: dataward backup restore-test --files 50 --gnupghome /root/recovery-gnupg
    """
    from ..backup.restore_test import restore_test as run_test
    rec = run_test(get_settings(ctx), target=target, gnupghome=gnupghome,
                   passphrase=_passphrase(passphrase_env), sample=files)
    out.print(f"restore test {rec.status}: {rec.files_matched} of {rec.files_checked} sampled "
              f"files identical to the source (snapshot {rec.snapshot_id[:8]}, {rec.target})")


@backup_app.command("unlock")
def unlock(
    ctx: typer.Context,
    target: TargetOpt = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Remove every lock, also of runs that may still be working.")] = False,
) -> None:
    """Remove the repository locks of runs that died (stale); every lock with --force.

    Example: dataward backup unlock --target offsite
    """
    from ..backup.service import backup_unlock
    for t, removed in backup_unlock(get_settings(ctx), target=target, force=force):
        for info in removed:
            out.print(f"{t.name}: removed {escape(info.describe())}")
        out.print(f"{t.name}: {len(removed)} locks removed")


@backup_app.command("repair")
def repair(ctx: typer.Context, target: TargetOpt = None) -> None:
    """Make objects hidden by a delete marker or overwritten current again (Object Lock).

    Example: dataward backup repair --target offsite
    """
    from ..errors import IntegrityError
    from ..backup.service import backup_repair
    bad = 0
    for t, result in backup_repair(get_settings(ctx), target=target):
        for line in result.restored:
            out.print(f"{t.name}: restored {line}")
        for line in result.unrepairable:
            out.print(f"damaged: {t.name}: {line}", style="red")
        bad += len(result.unrepairable)
        out.print(f"{t.name}: {len(result.restored)} objects made current again")
    if bad:
        raise IntegrityError(f"{bad} objects have no intact version left",
                             hint="restore from another target; `dataward backup verify` lists them")


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
