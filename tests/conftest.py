"""Fixtures every test area shares: a private state folder and a CLI runner."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

# No telemetry from anything the tests start, and no user config leaking in.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("DATAWARD_CONFIG", None)


@pytest.fixture
def dw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An initialised state folder ($DATAWARD_HOME) under the test's tmp dir."""
    from dataward.home import init_home
    from dataward.settings import load_settings

    home = tmp_path / "dw-home"
    monkeypatch.setenv("DATAWARD_HOME", str(home))
    monkeypatch.delenv("DATAWARD_CONFIG", raising=False)
    init_home(load_settings())
    return home


@pytest.fixture
def cli() -> Callable[..., object]:
    """Run `dataward ARGS...` in-process; returns the CliRunner result
    (.exit_code, .stdout, .stderr, .output)."""
    from dataward.cli.main import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, env=env,
                             catch_exceptions=False)

    return run
