"""The one exception family of dataward, and the exit codes the CLI maps it to.

Every error dataward raises on purpose is a ``DatawardError``. Its message is written
for a school technician: it says what went wrong and what to do, and it never holds a
raw personal value (invariant 1: exception messages are outputs too).

Each class carries two markers:

* ``transient``: trying again later may succeed (a network hiccup, a locked file).
  Prefect's ``retry_condition_fn`` asks this, so only transient errors are retried.
* ``exit_code``: what the CLI exits with. The table lives here and only here.

The tree::

    DatawardError                  exit 1   fatal, terminal
    +-- ConfigError                exit 78  the config file or an option is wrong
    +-- UsageError                 exit 2   the command line asks for something impossible
    +-- InputError                 exit 65  an input file (CSV export, log) is malformed
    +-- PathOutsideRootsError      exit 77  a path is outside the configured roots, or a symlink
    +-- NotFoundError              exit 4   a scan, plan, package or asset does not exist
    +-- RefusedError               exit 5   a policy forbids it (weak password, unapproved plan)
    +-- IntegrityError             exit 6   a hash, signature or MAC does not match: tampering
    +-- RepositoryMissingError     exit 10  no backup repository at the target
    +-- LockedError                exit 11  another run holds the lock (transient)
    +-- WrongKeyError              exit 12  a password or key does not open the data
    +-- TransientError             exit 75  a passing fault (network, busy server): retry
    +-- PartialError               exit 3   the job finished but some items failed

Exit codes 0 (ok), 130 (cancelled with Ctrl-C) and 141 (the output's reader went away,
as ``dataward ... | head`` does) have no class.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_CANCELLED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer its pipe stopped


class DatawardError(Exception):
    """Base of every error dataward raises on purpose."""

    exit_code: int = 1
    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(DatawardError):
    """The config file or an option is wrong."""

    exit_code = 78


class UsageError(DatawardError):
    """The command line asks for something impossible."""

    exit_code = 2


class InputError(DatawardError):
    """An input file (an MIS export, a log) is malformed."""

    exit_code = 65


class PathOutsideRootsError(DatawardError):
    """A path is outside the configured roots, or is a symlink."""

    exit_code = 77


class NotFoundError(DatawardError):
    """A scan, plan, package, snapshot or asset does not exist."""

    exit_code = 4


class RefusedError(DatawardError):
    """A policy forbids the action (weak password, unapproved plan)."""

    exit_code = 5


class IntegrityError(DatawardError):
    """A hash, signature or MAC does not match: data was altered."""

    exit_code = 6


class RepositoryMissingError(DatawardError):
    """There is no backup repository at the target."""

    exit_code = 10


class LockedError(DatawardError):
    """Another run holds the lock; try again when it ends."""

    exit_code = 11
    transient = True


class WrongKeyError(DatawardError):
    """A password or key does not open the data."""

    exit_code = 12


class TransientError(DatawardError):
    """A passing fault (network, busy server); a retry may succeed."""

    exit_code = 75
    transient = True


class PartialError(DatawardError):
    """The job ran to the end, but some items could not be processed."""

    exit_code = 3


def is_transient(exc: BaseException) -> bool:
    """True when retrying may help. Unknown exceptions are treated as terminal."""
    return isinstance(exc, DatawardError) and exc.transient


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_CANCELLED
    if isinstance(exc, DatawardError):
        return exc.exit_code
    return 1


def exit_code_table() -> list[tuple[int, str, str]]:
    """(code, class name, meaning) for the README and ``dataward --help``."""
    rows = [(EXIT_OK, "-", "success"), (EXIT_CANCELLED, "-", "cancelled (Ctrl-C)"),
            (EXIT_BROKEN_PIPE, "-", "the output's reader stopped reading (`| head`)")]
    classes: list[type[DatawardError]] = [DatawardError, *DatawardError.__subclasses__()]
    for cls in classes:
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        rows.append((cls.exit_code, cls.__name__, doc))
    return sorted(rows)
