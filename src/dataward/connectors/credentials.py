"""Secrets dataward needs to reach a server (an SMB share, a directory), never in the
config in clear: a file only the service user can read, or an environment variable.

A password file that its group or anyone else can read is refused, not used: on a shared
server such a file has already leaked, and using it would hide that."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import ConfigError, RefusedError


def read_secret(path: Path | None, env_name: str | None, what: str) -> str | None:
    """The secret from ``path`` (checked) or the variable ``env_name``; None when neither
    is set. ``what`` names the secret in messages ("the SMB password")."""
    if path is not None:
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
