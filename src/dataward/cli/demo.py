"""`dataward demo`: a made-up school, the nightly job run on it, and the DPO report."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from .common import out

# Later steps of the direct (no Prefect) demo register here: the report, the backup.
demo_hooks: list = []


def demo(
    ctx: typer.Context,
    pupils: Annotated[int, typer.Option(help="How many made-up pupils.")] = 60,
    prefect: Annotated[bool, typer.Option(
        "--prefect/--no-prefect",
        help="Run the nightly job as the scheduler does, through Prefect (a temporary local "
             "server, about 15 s more), or call the pipelines directly.")] = True,
) -> None:
    """Build a made-up school, run the nightly job on it, and write the DPO report.

    The school's share has staff/, pupils/ and admin/ areas of Word, Excel, PDF, CSV and
    image files (some holding pupils' data where they should not), and MIS exports for
    names. Every person in it is invented. Everything lives in the demo's own folder:
    $DATAWARD_HOME when set, else ./.dataward-demo (never the default state folder): its
    config, SQLite ledger, scans, report, Prefect database and local backup target. The
    demo refuses a folder that holds anything but an earlier demo (a school's real setup).

    Example: DATAWARD_HOME=/tmp/dw-demo dataward demo
    """
    import shutil

    from ..demo import build_demo, claim_demo_home, demo_home
    from ..home import ensure_home, fingerprint_key, setup_logging
    from ..settings import load_settings

    home = claim_demo_home(demo_home())
    # From here on every part of dataward (and each child process) uses the demo folder.
    os.environ["DATAWARD_HOME"] = str(home)
    for sub in ("demo-share", "mis-exports"):
        shutil.rmtree(home / sub, ignore_errors=True)
    key, gnupghome = demo_recovery_key(home)
    cfg = build_demo(home, pupils=pupils, recovery_key=key, gnupghome=gnupghome)
    settings = load_settings(cfg)
    ensure_home(settings)
    fingerprint_key(settings, create=True)
    state = ctx.find_root().obj
    state.config, state._settings = cfg, settings
    setup_logging(settings, verbose=state.verbose)
    out.print(f"demo school share: {home / 'demo-share'}")
    out.print(f"config: {cfg}")
    if prefect:
        _through_prefect(home, cfg)
        return
    from .scan import scan
    try:
        ctx.invoke(scan, ctx=ctx, paths=None, roster=None, out_dir=None, source=None,
                   full=True, as_json=False)
    except typer.Exit as exc:
        if exc.exit_code not in (0, 3):
            raise
    for hook in demo_hooks:
        hook(ctx, settings)


def prefect_environment(home: Path) -> None:
    """Prefect's database and settings under the demo folder; no telemetry, and never a
    school's Prefect server (PREFECT_API_URL): the flow runs on a temporary one."""
    os.environ["PREFECT_HOME"] = str(home / "prefect")
    os.environ.pop("PREFECT_API_URL", None)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "false")


def _through_prefect(home: Path, cfg: Path) -> None:
    from ..settings import load_settings
    prefect_environment(home)
    out.print("running the nightly job through Prefect (temporary local server)...")
    from ..flows.scan import nightly_scan
    done = nightly_scan(config=str(cfg), full=True)
    scan, report = done["scan"], done["report"]
    out.print(f"scan {scan['scan_id']}: {scan['status']}, {scan['items']} items, "
              f"{scan['items_with_findings']} with personal data, {scan['findings']} findings")
    out.print(f"  results: {scan['out_dir']}/items.parquet, findings.parquet")
    from ..flows.backup import nightly_backup
    settings = load_settings(cfg)
    if settings.backup.targets:
        from ..errors import RepositoryMissingError
        from ..backup.service import init_target, open_repo, resolve_targets
        for t in resolve_targets(settings):
            try:
                open_repo(settings, t).close()
            except RepositoryMissingError:
                init_target(settings, t).close()
        for row in nightly_backup(config=str(cfg)):
            out.print("backup: " + ", ".join(f"{k} {v}" for k, v in row.items()
                                              if not isinstance(v, (dict, list))))
    elif nightly_backup is not None:
        out.print("backup: skipped (no gpg on this machine to make the demo's recovery key)")
    out.print(f"DPO report: {report['path']}")


def demo_recovery_key(home: Path) -> tuple[str | None, Path | None]:
    """A passphrase-less OpenPGP key for the demo's backups, in a keyring of its own under
    the state folder (a real school uses the head's and the trust's keys)."""
    import shutil
    import subprocess
    if not shutil.which("gpg"):
        return None, None
    import tempfile
    gnupghome = home / "demo-gnupg"
    gnupghome.mkdir(mode=0o700, exist_ok=True)
    # gpg-agent's socket lives in the keyring folder and its path must stay short (about
    # 100 bytes): reach the keyring through a short link while gpg works in it.
    short = Path(tempfile.mkdtemp(prefix="dwg-"))
    (short / "h").symlink_to(gnupghome)
    env = {**os.environ, "GNUPGHOME": str(short / "h")}
    try:
        return _demo_key(env), gnupghome
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True)
        shutil.rmtree(short, ignore_errors=True)


def _demo_key(env: dict[str, str]) -> str:
    import subprocess
    uid = "Oakfield Demo Recovery <recovery@oakfield.sch.uk>"

    def fingerprint() -> str | None:
        listing = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys", uid],
                                 env=env, capture_output=True, text=True).stdout
        return next((ln.split(":")[9] for ln in listing.splitlines() if ln.startswith("fpr:")), None)

    fpr = fingerprint()
    if fpr is None:
        gen = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
        subprocess.run(gen + ["--quick-gen-key", uid, "ed25519", "cert", "never"],
                       env=env, capture_output=True, check=True)
        fpr = fingerprint()
        if fpr is None:
            from ..errors import DatawardError
            raise DatawardError("gpg made the demo recovery key but does not list it",
                                hint="check that `gpg --version` runs")
        subprocess.run(gen + ["--quick-add-key", fpr, "cv25519", "encr", "never"],
                       env=env, capture_output=True, check=True)
    return fpr


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
