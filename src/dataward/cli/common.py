"""What every command group shares: the console, settings from the global options,
the ledger, and progress bars."""
from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn,
)

from ..errors import EXIT_BROKEN_PIPE, UsageError
from ..settings import Settings, load_settings

# Tables wider than 80 columns when output goes to a file or pipe (no terminal to fit).
_WIDTH = None if sys.stdout.isatty() else 140


def stop_on_broken_pipe() -> NoReturn:
    """The output's reader went away (``dataward ... | head``): stop quietly, as a pipe's
    writer does (exit 141); what stdout still buffers goes nowhere, not into an error."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise typer.Exit(EXIT_BROKEN_PIPE)


class _Console(Console):
    def on_broken_pipe(self) -> None:  # Rich's own exits 1, dataward's "fatal error"
        self.quiet = True
        stop_on_broken_pipe()


console = _Console(stderr=True, highlight=False, soft_wrap=True)
# Results on stdout hold paths and names: never read them as Rich markup ("[2024]").
out = _Console(highlight=False, soft_wrap=True, width=_WIDTH, markup=False)


class State:
    """Global options, kept on the Typer context."""

    def __init__(self, config: Path | None, verbose: bool, debug: bool) -> None:
        self.config = config
        self.verbose = verbose
        self.debug = debug
        self._settings: Settings | None = None

    def settings(self, *, required: bool = False) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config, required=required)
            from ..home import setup_logging
            setup_logging(self._settings, verbose=self.verbose or self.debug)
        return self._settings


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if obj is None:  # called without the root callback (tests invoking a sub-app)
        obj = ctx.find_root().obj = State(None, False, False)
    return obj


def get_settings(ctx: typer.Context, *, required: bool = False) -> Settings:
    return state(ctx).settings(required=required)


def progress(*, transient: bool = False, extra: list[Any] | None = None) -> Progress:
    """A Rich progress bar on stderr; silent when stderr is not a terminal."""
    columns: list[Any] = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                          MofNCompleteColumn(), *(extra or []), TimeElapsedColumn()]
    return Progress(*columns, console=console, transient=transient,
                    disable=not console.is_terminal)


def parse_as_of(value: str | None) -> date | None:
    """An ``--as-of YYYY-MM-DD`` option (retention and accounts plan as on that date)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError("--as-of takes a date as YYYY-MM-DD") from None
