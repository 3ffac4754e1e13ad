"""`dataward package ...`: encrypted transfer packages for the office manager."""
from __future__ import annotations

import sys
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Optional, TypeVar

import typer

from rich.markup import escape

from .common import console, get_settings, out, progress

if TYPE_CHECKING:
    from ..transfer.create import PackageProgress

R = TypeVar("R")

package_app = typer.Typer(
    help="Package files for an encrypted transfer to another school or the local "
         "authority; verify a package; record the recipient's confirmation.",
    no_args_is_help=True)

MB = 1024 * 1024


def _ask_passphrase(*, confirm: bool) -> str:
    """A passphrase typed at the terminal. Without one (a script, cron) it is read from
    standard input, a line (two to confirm); with nothing there either, say how to pass
    it rather than print Python's "Can not control echo" warning and a bare "Aborted."."""
    from ..errors import UsageError
    if sys.stdin.isatty():
        try:
            return str(typer.prompt("Passphrase", hide_input=True,
                                    confirmation_prompt=confirm, err=True))
        except (EOFError, typer.Abort):
            raise UsageError("no passphrase was typed") from None
    lines = [sys.stdin.readline() for _ in range(2 if confirm else 1)]
    if not lines[0]:
        raise UsageError("no terminal to type the passphrase at, and nothing on standard input",
                         hint="pass --password-file FILE (its first line is the passphrase)")
    typed = [ln.rstrip("\r\n") for ln in lines]
    if confirm and typed[0] != typed[1]:
        raise UsageError("the two passphrases on standard input differ")
    return typed[0]


def _read_password_file(path: Path) -> str:
    from ..errors import NotFoundError, UsageError
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotFoundError(f"cannot read the password file: {exc.strerror}") from None
    pw = text.splitlines()[0] if text else ""
    if not pw:
        raise UsageError("the password file is empty (the first line is the password)")
    return pw


def _with_progress(label: str, fn: Callable[[Callable[[PackageProgress], None]], R],
                   total_hint: int = 0) -> R:
    """Run ``fn(progress_callback)`` under a bytes progress bar."""
    from rich.progress import DownloadColumn
    with progress(transient=True, extra=[DownloadColumn()]) as bar:
        task = bar.add_task(label, total=total_hint or None)

        def cb(p: PackageProgress) -> None:
            if p.stage == "packaging" or p.stage == "checking":
                bar.update(task, description=p.stage, completed=p.done,
                           total=p.total or None)
            else:
                bar.update(task, description=p.stage)
        return fn(cb)


@package_app.command("create")
def create(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(
        help="Files and folders to send (inside transfer.allowed_roots).",
        show_default=False)],
    to: Annotated[str, typer.Option("--to", help="The recipient organisation, e.g. "
                                    "\"Oakshire County Council\".", show_default=False)],
    purpose: Annotated[str, typer.Option(help="Why the files are sent (name no pupil).")] = "",
    password: Annotated[bool, typer.Option(
        "--password", help="AES-256 zip with a passphrase dataward generates (default).")] = False,
    ask_password: Annotated[bool, typer.Option(
        "--ask-password", help="Type your own passphrase at a prompt instead.")] = False,
    password_file: Annotated[Optional[Path], typer.Option(
        help="Read your own passphrase from the first line of this file (for scripts).")] = None,
    recipient: Annotated[Optional[str], typer.Option(
        help="OpenPGP instead: the recipient's key fingerprint or e-mail in the school's "
             "keyring.")] = None,
    hide_recipient: Annotated[Optional[bool], typer.Option(
        "--hide-recipient/--show-recipient",
        help="OpenPGP: leave the recipient's key id out of the file "
             "(default: transfer.hide_recipient).")] = None,
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Folder for the package (default: the current folder).")] = None,
) -> None:
    """Scan, then encrypt files into one package named transfer-<date>-<id>.zip.

    The generated passphrase is shown once, here, and never stored: give it to the
    recipient by phone or SMS, never in the e-mail that carries the package.

    Example: dataward package create "/srv/shares/admin/Year 6 transfer" --to "Oakfield Academy" --purpose "Year 6 transition records"
    """
    from ..errors import UsageError
    from ..transfer import PasswordMethod, PgpMethod, create_package

    s = get_settings(ctx)
    own = [bool(ask_password), password_file is not None]
    if recipient and (password or any(own)):
        raise UsageError("choose either a password (--password, --ask-password, "
                         "--password-file) or --recipient, not both")
    if sum(own) > 1:
        raise UsageError("choose one of --ask-password and --password-file")
    if hide_recipient is not None and not recipient:
        raise UsageError("--hide-recipient/--show-recipient apply to --recipient only")
    method: PasswordMethod | PgpMethod
    if recipient:
        method = PgpMethod(recipient, hide_recipient)
    elif password_file is not None:
        method = PasswordMethod(_read_password_file(password_file))
    elif ask_password:
        method = PasswordMethod(_ask_passphrase(confirm=True))
    else:
        method = PasswordMethod()

    res = _with_progress("selecting", lambda cb: create_package(
        s, list(paths), recipient=to, purpose=purpose, method=method,
        out_dir=out_dir, progress=cb))

    out.print(f"package: {res.path}")
    out.print(f"id: {res.package_id}")
    out.print(f"files: {res.file_count} ({res.total_size / MB:.1f} MB), "
              f"package {res.package_size / MB:.2f} MB")
    if res.scan.status == "scanned":
        found = ", ".join(f"{k} {v}" for k, v in res.scan.entity_counts.items()) or "none"
        out.print(f"personal data found by the scan: {found} "
                  f"({res.scan.files_with_personal_data} file(s))")
    else:
        out.print(f"scan before packaging: {res.scan.status}")
    if res.skipped_junk:
        out.print(f"left out {res.skipped_junk} system file(s) (Thumbs.db, ~$ lock files)")
    if res.recipient_key is not None:
        k = res.recipient_key
        console.print(f"encrypted to key {k.fingerprint} ({escape(k.uid)})"
                      + (f", expires {k.expires}" if k.expires else ""))
        console.print("Check that fingerprint with the recipient. They open the package "
                      f"with: gpg --output package.zip --decrypt {res.path.name}")
    if res.generated_password:
        from rich.panel import Panel
        console.print(Panel(
            f"[bold]{res.generated_password}[/]",
            title=f"passphrase ({len(res.generated_password.split('-'))} words, "
                  f"about {res.password_bits:.0f} bits)", expand=False))
        console.print(
            "Give it to the recipient by phone or SMS, never in the e-mail that carries "
            "the package. It is not stored anywhere: dataward cannot show it again.")
    console.print(f"E-mail subject: name no pupil, e.g. \"Secure transfer {res.package_id}\". "
                  f"When they confirm receipt: dataward package confirm {res.package_id} "
                  "--by NAME")


@package_app.command("verify")
def verify(
    ctx: typer.Context,
    package: Annotated[Path, typer.Argument(help="The package file (.zip or .zip.gpg).",
                                            show_default=False)],
    password_file: Annotated[Optional[Path], typer.Option(
        help="Read the passphrase from the first line of this file (else a prompt).")] = None,
) -> None:
    """Open a package and check every file against its manifest (exit 6 if altered).

    Example: dataward package verify transfer-20250314-3f9a1c2b.zip
    """
    from ..transfer import verify_package
    from ..transfer.verify import _looks_like_zip

    s = get_settings(ctx)
    pw: str | None = None
    if package.is_file() and _looks_like_zip(package):
        pw = (_read_password_file(password_file) if password_file is not None
              else _ask_passphrase(confirm=False))
    res = _with_progress("checking", lambda cb: verify_package(s, package, password=pw,
                                                               progress=cb))
    if res.dataward:
        out.print(f"OK: package {res.package_id} opens ({res.kind}); all {res.files_ok} "
                  f"file(s) match the manifest ({res.total_size / MB:.1f} MB)")
        if res.ledger == "match":
            out.print("the manifest matches the ledger's record of this package")
    else:
        out.print(f"OK: opens with the password; {res.entries} member(s) read, "
                  f"{res.entries - res.unencrypted_entries} AES-encrypted and authenticated")
    for note in res.notes:
        console.print(f"[yellow]note:[/] {note}")


@package_app.command("confirm")
def confirm(
    ctx: typer.Context,
    package_id: Annotated[str, typer.Argument(help="The package id (or its file name).",
                                              show_default=False)],
    by: Annotated[str, typer.Option("--by", help="Who at the recipient confirmed safe "
                                    "receipt.", show_default=False)],
    note: Annotated[str, typer.Option(help="How it was confirmed (e.g. phone call).")] = "",
) -> None:
    """Record the recipient's confirmation that the package arrived safely.

    Example: dataward package confirm 3f9a1c2b --by "J. Patel, Oakfield Academy office"
    """
    from ..transfer import confirm_package, open_store
    with open_store(get_settings(ctx)) as ledger:
        rec = confirm_package(ledger, package_id, by, note=note)
    out.print(f"package {rec.package_id}: receipt confirmed by {escape(rec.confirmed_by or '')}, "
              f"{rec.age_days()} day(s) after it was made")


@package_app.command("list")
def list_(
    ctx: typer.Context,
    older_than: Annotated[Optional[int], typer.Option(
        help="Only packages sent more than this many days ago "
             "(default: transfer.awaiting_days).", min=0)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every package, confirmed or not, "
                                       "any age.")] = False,
) -> None:
    """Show packages still awaiting the recipient's confirmation beyond N days.

    Example: dataward package list --older-than 3
    """
    from rich.table import Table

    from ..transfer import list_packages, open_store
    s = get_settings(ctx)
    days = None if all_ else (s.transfer.awaiting_days if older_than is None else older_than)
    with open_store(s) as ledger:
        rows = list_packages(ledger, older_than_days=days, include_confirmed=all_)
    if not rows:
        out.print("no packages awaiting confirmation"
                  + (f" for more than {days} day(s)" if days is not None else ""))
        return
    t = Table("id", "made (UTC)", "to", "method", "files", "MB", "days", "status")
    for r in rows:
        t.add_row(r.package_id, r.created[:16].replace("T", " "), escape(r.recipient), r.method,
                  str(r.file_count), f"{r.package_size / MB:.2f}", str(r.age_days()),
                  r.status if r.status != "confirmed" else f"confirmed by {escape(r.confirmed_by or '')}")
    out.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(package_app, name="package")
