"""Secrets dataward needs to reach a server (an SMB share, a directory), never in the
config in clear: a file only the service user can read, or an environment variable (or a
Kerberos keytab, checked the same way: see ``connectors.kerberos``).

A password file that its group or anyone else can read is refused, not used: on a shared
server such a file has already leaked, and using it would hide that."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import ConfigError, RefusedError


def _open_private(path: Path, what: str) -> int:
    """An open descriptor of ``path`` once it is a regular file of this user that no one
    else can read (not followed if it is a link); refused otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ConfigError(f"{what} file {path} does not exist") from None
    except OSError as exc:
        reason = "is a symbolic link" if exc.errno == 40 else exc.strerror
        raise ConfigError(f"{what} file {path} cannot be opened: {reason}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{what} file {path} is not a regular file")
        if st.st_mode & 0o077:
            raise RefusedError(
                f"{what} file {path} can be read by others (mode {stat.S_IMODE(st.st_mode):04o})",
                hint=f"chmod 600 {path}, and change the password: it may have been read")
        if st.st_uid != os.geteuid():
            raise RefusedError(f"{what} file {path} belongs to another user (uid {st.st_uid})",
                               hint="the file must belong to the user dataward runs as")
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_private_file(path: Path, what: str) -> Path:
    """``path`` once it passes the password file's checks (a Kerberos keytab is a
    password in another form)."""
    os.close(_open_private(path, what))
    return path


def read_secret(path: Path | None, env_name: str | None, what: str) -> str | None:
    """The secret from ``path`` (checked) or the variable ``env_name``; None when neither
    is set. ``what`` names the secret in messages ("the SMB password")."""
    if path is not None:
        fd = _open_private(path, what)
        try:
            data = os.read(fd, 65536)
        finally:
            os.close(fd)
        secret = data.decode("utf-8", errors="replace").rstrip("\r\n")
        if not secret:
            raise ConfigError(f"{what} file {path} is empty")
        return secret
    if env_name:
        value = os.environ.get(env_name)
        if value:
            return value
    return None
