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
# Never the user's real state folder: tests that need one use `dw_home`.
import tempfile

os.environ["DATAWARD_HOME"] = tempfile.mkdtemp(prefix="dw-test-home-")


@pytest.fixture(autouse=True)
def _threads_of_this_test_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan forks its item workers from the scanning process only while no other Python
    thread runs there, else a worker host forks them (issue 13). Threads an earlier test
    left running in this test process (the session's Prefect harness and its client)
    would send every later test's scan to a host, where the readers and caps a test
    patches in this process are not seen. So a test counts the threads it started itself
    (a flow run's task runner, a test's own thread), and a scan with none forks from here
    as `dataward scan` does."""
    import sys
    import threading

    from dataward.pipelines import workers

    # A thread ``threading`` does not know (pytest-xdist's execnet I/O thread, started
    # with ``_thread``) shows only among the frames.
    earlier = (set(sys._current_frames()) | {t.ident for t in threading.enumerate()}) \
        - {threading.main_thread().ident}

    def threads_of_this_test() -> int:
        now = set(sys._current_frames()) | {t.ident for t in threading.enumerate()}
        return len(now - earlier)

    monkeypatch.setattr(workers, "python_threads", threads_of_this_test)


@pytest.fixture
def dw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An initialised state folder ($DATAWARD_HOME) under the test's tmp dir."""
    from dataward.home import init_home
    from dataward.settings import load_settings

    home = tmp_path / "dw-home"
    monkeypatch.setenv("DATAWARD_HOME", str(home))
    monkeypatch.delenv("DATAWARD_CONFIG", raising=False)
    init_home(load_settings())
    # The starter config names /srv paths that do not exist here: start from a blank one.
    (home / "dataward.yaml").write_text("school: {name: Test School, domains: [oakfield.sch.uk]}\n")
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


@pytest.fixture(scope="session")
def gpg_home(tmp_path_factory) -> dict[str, str]:
    """A private GnuPG home with two passphrase-less test keys made by real gpg:
    the school's signing key and a recovery key. Returns {"home", "school", "recovery"}
    (fingerprints). Tests must pass ``gnupghome=`` explicitly; the user's keyring is never
    touched."""
    import subprocess

    # Short path: gpg-agent's socket path must stay under ~100 characters.
    import tempfile
    home = Path(tempfile.mkdtemp(prefix="dwgpg-"))
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    fprs: dict[str, str] = {"home": str(home)}
    for role, uid in (("school", "Oakfield Primary School <dpo@oakfield.sch.uk>"),
                      ("recovery", "Oakfield Recovery <head@oakfield.sch.uk>")):
        subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                        "--quick-gen-key", uid, "ed25519", "sign,cert", "2y"],
                       check=True, env=env, capture_output=True)
        out = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys", uid],
                             check=True, env=env, capture_output=True, text=True).stdout
        fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
        subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                        "--quick-add-key", fpr, "cv25519", "encr", "2y"],
                       check=True, env=env, capture_output=True)
        fprs[role] = fpr
    yield fprs
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True)


# One Prefect test harness per test process, for every test that needs a Prefect API (the
# flows, tests/network's accounts flow, the trust's Dask workers): it costs 10-15 s to
# start, and two in one process clash.
@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """A temporary Prefect server and database under a private PREFECT_HOME."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    from prefect.testing.utilities import prefect_test_harness

    # Generous: a loaded machine (a CI host running other work) starts it slowly.
    with prefect_test_harness(server_startup_timeout=240):
        yield home
