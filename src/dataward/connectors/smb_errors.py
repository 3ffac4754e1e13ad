"""Why an SMB operation failed, in words a school technician can act on: the NTSTATUS
codes a scan meets (logon failure, sharing violation, a file gone), Kerberos failures
(``connectors.kerberos``) and network faults. Reasons go in an item's error column, so
they never hold a document's text."""
from __future__ import annotations

from ..errors import TransientError
from .kerberos import kerberos_reason


class SmbError(TransientError):
    """A share could not be reached or read (the message says why and what to do)."""


def smb_error(exc: BaseException, where: str) -> SmbError:
    """One error for the technician: what failed, where, and what to do."""
    reason, hint = reason_for(exc), None
    if "Kerberos" in reason or "keytab" in reason:
        hint = "see docs/network.md, Kerberos: a keytab (smb.keytab) or a ticket kept fresh by kinit"
    elif "password" in reason or "logon" in reason:
        hint = "check smb.username and the password file or variable"
    elif "unreachable" in reason or "not answering" in reason:
        hint = "check the server name, the network and that port 445 is open"
    return SmbError(f"{where}: {reason}", hint=hint)


def reason_for(exc: BaseException) -> str:
    """A short reason for an item's error column (never a document's text)."""
    from smbprotocol import exceptions as e
    status = getattr(exc, "ntstatus", None) or getattr(exc, "status", None)
    by_status = {
        0xC000006D: "logon failure: wrong user name or password",
        0xC000006A: "logon failure: wrong password",
        0xC0000071: "the service account's password has expired",
        0xC0000072: "the service account is disabled",
        0xC0000022: "access denied to the service account",
        0xC0000043: "in use by another program that allows no sharing (locked); read next scan",
        0xC0000034: "disappeared during the scan",
        0xC000003A: "its folder disappeared during the scan",
        0xC00000CC: "the share is not there (removed or renamed on the server)",
        # a DFS-capable server (Windows, a Samba DC) answers a missing share's referral so
        0xC0000225: "the share is not there (removed or renamed on the server)",
        0xC00000C9: "the share was removed or disconnected during the scan",
        0xC0000203: "the server ended the session during the scan",
        0xC000035C: "the server ended the session during the scan",
        0xC0000056: "being deleted on the server",
        0xC00000B5: "the server took too long to answer",
        0xC00000E5: "the server failed inside (STATUS_INTERNAL_ERROR): see the file server's log",
    }
    if isinstance(status, int) and status in by_status:
        return by_status[status]
    kerberos = kerberos_reason(exc)
    if kerberos is not None:
        return kerberos
    if isinstance(exc, (e.SMBAuthenticationError,)):
        return "logon failure: wrong user name or password"
    if isinstance(exc, (e.SMBConnectionClosed, ConnectionError, TimeoutError)) or \
            type(exc).__name__ in ("ValueError",) and "connect" in str(exc).lower():
        return "the server is unreachable or stopped answering"
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        return exc.strerror.lower()
    if isinstance(status, int):
        return f"the server refused (NTSTATUS 0x{status:08X})"
    return f"SMB error ({type(exc).__name__})"


# The share was taken away, or the session ended: what is cached for this server is dead.
_STALE = (0xC00000C9, 0xC0000203, 0xC000035C)


def is_stale(exc: BaseException) -> bool:
    """True when the connection or tree an error came through can no longer be used."""
    from smbprotocol.exceptions import SMBConnectionClosed
    status = getattr(exc, "ntstatus", None) or getattr(exc, "status", None)
    return status in _STALE or isinstance(exc, (SMBConnectionClosed, ConnectionError))
