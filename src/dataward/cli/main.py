"""The root `dataward` app: global options, the error boundary, and the command groups.

Each group lives in its own module under cli/ and is registered in ``_register``.
Commands call pipelines directly (no Prefect server is needed for one-off work).
"""
from __future__ import annotations

import copy
import gc
import sys

# Start-up: no cyclic garbage collection while the modules load (imports allocate much and
# free little, so each collection walks them all for nothing); collection resumes once
# they are loaded, with what they made frozen out of later collections.
gc.disable()
# ruff: noqa: E402 - the imports below come after the collector is paused

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from typer.core import TyperGroup

from .. import __version__
from ..errors import EXIT_CANCELLED, ConfigError, DatawardError, exit_code_for, exit_code_table
from ..home import open_ledger
from .common import State, console, get_settings, out, stop_on_broken_pipe

def _reflow(text: str | None) -> str | None:
    """Join a docstring's wrapped prose lines so the help fits any width (Rich wraps each
    line again at the terminal's width, leaving one-word lines at 80 columns); indented
    lines (examples) and lines after a colon keep their own line."""
    if not text:
        return text
    out: list[str] = []
    for line in text.splitlines():
        prev = out[-1] if out else ""
        if (line.strip() and not line[0].isspace() and prev.strip() and not prev[0].isspace()
                and not prev.rstrip().endswith(":")):
            out[-1] = f"{prev.rstrip()} {line.strip()}"
        else:
            out.append(line)
    return "\n".join(out)


def _no_type(param: Any) -> Any:
    if param is not None and getattr(param, "is_flag", False) and param.metavar is None:
        param.metavar = ""
    return param


def _tidy_help(cmd: Any) -> None:
    """Help that reads well at 80 columns: prose reflowed, and flags shown without a type
    (`--full` takes no value; Typer would print `<bool>` beside it)."""
    if getattr(cmd, "_dataward_tidy", False):
        return
    cmd._dataward_tidy = True
    cmd.help = _reflow(cmd.help)
    for param in cmd.params:
        _no_type(param)
    help_option = cmd.get_help_option
    cmd.get_help_option = lambda ctx: _no_type(help_option(ctx))
    for sub in getattr(cmd, "commands", {}).values():
        _tidy_help(sub)


class _Group(TyperGroup):
    """The root group: the one place errors become messages and exit codes, so the
    console script and tests (CliRunner) behave the same."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        _tidy_help(self)
        return super().make_context(*args, **kwargs)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer's Context, a subclass of the one its vendored click declares
        try:
            return super().invoke(ctx)
        except DatawardError as exc:
            console.print(f"[red]error:[/] {escape(str(exc))}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            console.print("[yellow]cancelled[/]")
            raise typer.Exit(EXIT_CANCELLED) from None
        except BrokenPipeError:  # help and messages Click writes itself
            stop_on_broken_pipe()
        except Exception as exc:  # messages may hold document text
            root = ctx.find_root().obj
            if type(exc).__module__.startswith("typer") or (root is not None and root.debug):
                raise  # usage errors, Exit and Abort: Typer prints and exits itself
            console.print(f"[red]internal error:[/] {type(exc).__name__} "
                          "(run again with --debug for the traceback)")
            raise typer.Exit(exit_code_for(exc)) from None


app = typer.Typer(
    cls=_Group,
    name="dataward",
    help=(
        "Keep a school's personal data where it belongs: scan shares and mail exports "
        "for personal data, package files for encrypted transfer, retire images of "
        "leavers, back up off site, and certify hardware disposal.\n\n"
        "Start with `dataward init`, edit the config it writes, then `dataward scan`. "
        "Try it on demo data first: `dataward demo`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        out.print(f"dataward {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[Optional[Path], typer.Option(
        "--config", "-c", envvar="DATAWARD_CONFIG",
        help="Config file (default: $DATAWARD_HOME/dataward.yaml).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more detail.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    from ..home import private_umask
    private_umask()  # everything dataward writes is 0600/0700 whatever the caller's umask
    ctx.obj = State(config, verbose, debug)


@app.command()
def init(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option(help="Overwrite an existing config file.")] = False,
) -> None:
    """Create the state folder (0700), the school's fingerprint key (0600) and a starter config.

    Example: DATAWARD_HOME=/var/lib/dataward dataward init
    """
    from ..home import init_home
    s = get_settings(ctx)
    home, cfg, wrote = init_home(s, ctx.find_root().obj.config, force=force)
    with open_ledger(s) as ledger:
        ledger.audit("init", str(home), config=str(cfg), config_written=wrote)
    out.print(f"state folder: {home}")
    out.print(f"config: {cfg} ({'written' if wrote else 'kept as it was'})")
    out.print("next: edit the config's sources and rosters, then run `dataward scan`")


config_app = typer.Typer(help="Check the configuration.", no_args_is_help=True)


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Validate the config and print what it resolves to. Exits 78 when a source or a
    roster is missing, unreadable, or a roster lists nobody.

    Example: dataward --config /etc/dataward.yaml config check
    """
    from ..connectors.roster import load_roster
    s = get_settings(ctx, required=True)
    out.print(f"config: {s.config_path}")
    out.print(f"state folder: {s.home}")
    out.print(f"ledger: {s.ledger_url}")
    problems: list[str] = []
    for src in s.sources:
        if src.kind == "smb":  # not contacted here: `dataward scan --source NAME` does
            out.print(f"source {src.name}: smb {src.url} audience=from permissions "
                      f"(fallback {src.audience})", markup=False)
            continue
        assert src.path is not None
        state = "ok" if src.path.exists() else "MISSING"
        if state != "ok":
            problems.append(f"source {src.name}: {src.path} is missing")
        out.print(f"source {src.name}: {src.kind} {src.path} audience={src.audience} [{state}]",
                  markup=False)
    for r in s.rosters:
        try:
            state = f"ok, {len(load_roster(r.path, r.kind))} people"
        except DatawardError as exc:
            state = "MISSING" if not r.path.exists() else "UNUSABLE"
            problems.append(str(exc))
        out.print(f"roster {r.kind}: {r.path} [{state}]", markup=False)
    if problems:
        raise ConfigError(f"{len(problems)} problem(s): " + "; ".join(problems))


audit_app = typer.Typer(help="Read and verify the tamper-evident audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Recompute the audit log's hash chain; exit 6 if any record was edited or removed.

    Example: dataward audit verify
    """
    from ..ledger import verify_or_raise
    with open_ledger(get_settings(ctx)) as ledger:
        verdict = verify_or_raise(ledger)
    out.print(f"audit log intact: {verdict.records} records, chain verified")


@audit_app.command("log")
def audit_log(
    ctx: typer.Context,
    last: Annotated[int, typer.Option(help="How many of the newest records.")] = 20,
    action: Annotated[str, typer.Option(help="Only actions starting with this.")] = "",
) -> None:
    """Print the newest audit records.

    Example: dataward audit log --last 50 --action retention.
    """
    from rich.table import Table
    with open_ledger(get_settings(ctx)) as ledger:
        records = ledger.audit_records(action_prefix=action)[-last:]
    t = Table("seq", "time (UTC)", "actor", "action", "subject")
    for r in records:
        t.add_row(str(r.seq), r.ts[:19], r.actor, r.action, r.subject)
    out.print(t)


@app.command("exit-codes")
def exit_codes() -> None:
    """List the exit codes dataward uses and what each means.

    Example: dataward exit-codes
    """
    for code, name, meaning in exit_code_table():
        out.print(f"{code:>4}  {name:<24} {meaning}")


def _register() -> None:
    __import__("dataward.cli.demo", fromlist=["register"]).register(app)
    from . import scan as scan_cli
    app.add_typer(config_app, name="config")
    app.add_typer(audit_app, name="audit")
    scan_cli.register(app)
    __import__("dataward.cli.assets", fromlist=["register"]).register(app)
    __import__("dataward.cli.retention", fromlist=["register"]).register(app)
    __import__("dataward.cli.backup", fromlist=["register"]).register(app)
    __import__("dataward.cli.package", fromlist=["register"]).register(app)
    __import__("dataward.cli.report", fromlist=["register"]).register(app)
    __import__("dataward.cli.serve", fromlist=["register"]).register(app)
    __import__("dataward.cli.review", fromlist=["register"]).register(app)
    __import__("dataward.cli.sar", fromlist=["register"]).register(app)
    __import__("dataward.cli.remediate", fromlist=["register"]).register(app)
    __import__("dataward.cli.accounts", fromlist=["register"]).register(app)
    __import__("dataward.cli.status", fromlist=["register"]).register(app)
    __import__("dataward.cli.trust", fromlist=["register"]).register(app)


_register()
gc.freeze()
gc.enable()


def _app_for(args: list[str]) -> typer.Typer:
    """The app holding only the command group ``args`` names (``backup`` in ``dataward -c
    x.yaml backup run``): Typer builds every command of an app before it reads the command
    line, a twentieth of a second that a quick command (an unchanged backup run) need not
    spend. The root's help, its own commands and unknown names get the whole app."""
    words = iter(args)
    for word in words:
        if word in ("-c", "--config"):
            next(words, None)  # the option's value
        elif word in ("-h", "--help", "--version"):
            return app
        elif not word.startswith("-"):
            group = [g for g in app.registered_groups if g.name == word]
            if not group:
                return app
            only = copy.copy(app)
            only.registered_groups, only.registered_commands = group, []
            return only
    return app


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        _app_for(sys.argv[1:] if argv is None else argv)(args=argv, prog_name="dataward")
    finally:
        # The collection at exit would walk every object only to free it: a quick
        # command (an unchanged backup run) spent a fifth of its CPU there.
        gc.freeze()
