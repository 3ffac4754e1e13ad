"""Kerberos for SMB shares and the LDAP directory: the service account's ticket instead of a
password (``smb.auth: kerberos``, a directory's ``auth: kerberos``).

Two sources of the ticket, neither holding a password dataward reads:

- a keytab (``smb.keytab``, a directory's ``keytab``): each connection gets a fresh ticket
  from it, in memory (nothing is written, and a long scan never outlives its ticket). A
  keytab is a password in another form, so it is checked as a password file is: a regular
  file of the user dataward runs as, mode 0600 or 0400, not a link.
- the ticket cache of the user dataward runs as (``KRB5CCNAME``), kept fresh outside
  dataward (``kinit -k -t`` from cron or a systemd timer, or k5start). A cache that is
  missing or expired makes the share (or the directory) unavailable for that run with the
  reason, and the next run after a renewal reads it again.

The server's Kerberos name is taken from the source's host: ``cifs/<host>`` for a share,
``ldap/<host>`` for the directory, so a source names the server as the domain knows it
(``fs01.school.local``, not an address). This needs the Python packages ``gssapi`` and
``krb5`` (the ``network`` extra) over MIT Kerberos (Debian: ``krb5-user``; ``libkrb5-dev``
to build them), and a ``krb5.conf`` naming the realm (``KRB5_CONFIG`` to use another).
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .credentials import check_private_file

if TYPE_CHECKING:
    from ..settings import Directory, Smb

# Phrases of MIT Kerberos / GSSAPI messages -> what the technician reads and can act on.
# Checked in order: the first that the error's text holds wins.
_REASONS = (
    (("password has expired",),
     "the service account's password has expired (Kerberos)"),
    (("ticket expired", "credentials have expired", "credential has expired"),
     "the Kerberos ticket has expired: renew it (kinit -k -t KEYTAB) or set a keytab"),
    (("no kerberos credentials", "no credentials cache", "no credentials were supplied",
      "credentials cache file"),
     "no Kerberos ticket in the cache (KRB5CCNAME): run kinit, or set a keytab"),
    (("server not found in kerberos database",),
     ("the domain has no Kerberos name for this server: name it as the domain knows it "
      "(fs01.school.local), or register the name (setspn)")),
    (("cannot find kdc", "cannot contact any kdc", "cannot resolve network address for kdc"),
     "no Kerberos server (KDC) answers for the realm: check krb5.conf"),
    (("clock skew",),
     "this machine's clock and the domain's differ by more than 5 minutes"),
    (("key table file",),
     "the keytab cannot be read"),
    (("preauthentication failed", "password incorrect", "decrypt integrity check failed"),
     "the keytab's key does not match the account (its password changed: export the keytab again)"),
    (("client not found in kerberos database",),
     "the Kerberos principal does not exist in the domain"),
    (("revoked",),
     "the account is disabled or locked (Kerberos refused its credentials)"),
)


def kerberos_reason(exc: BaseException) -> str | None:
    """A short reason for a Kerberos failure, or None when ``exc`` is not one."""
    text = str(exc).lower()
    for phrases, reason in _REASONS:
        if any(p in text for p in phrases):
            return reason
    module = type(exc).__module__.split(".")[0]
    if module in ("gssapi", "krb5") or "gss failure" in text:
        return "Kerberos logon failed (run klist to see the ticket, and check krb5.conf)"
    return None


def require_kerberos(what: str) -> None:
    """Refuse Kerberos early, with the fix, when its Python packages are missing."""
    try:
        import gssapi  # noqa: F401
        import krb5  # noqa: F401
    except ImportError:
        raise ConfigError(f"{what}: Kerberos needs the Python packages gssapi and krb5",
                          hint="install dataward with its network extra (pip install "
                               "'dataward[network]'), and Debian's krb5-user") from None


def smb_credential(config: Smb) -> Any:
    """What smbprotocol logs on with: the keytab, or None for the user's ticket cache."""
    require_kerberos("smb.auth")
    if config.keytab is None:
        return None
    import spnego
    keytab = check_private_file(Path(config.keytab).absolute(), "the SMB Kerberos keytab")
    return spnego.KerberosKeytab(keytab=str(keytab), principal=_principal(config.username))


def ldap_credentials(d: Directory) -> Any:
    """gssapi credentials for a SASL GSSAPI bind: from the keytab into a private in-memory
    cache, or None for the user's ticket cache."""
    require_kerberos(f"directory {d.name}")
    if d.keytab is None:
        return None
    import gssapi
    keytab = check_private_file(Path(d.keytab).absolute(), f"the Kerberos keytab of directory {d.name}")
    principal = _principal(d.bind_user)
    name = gssapi.Name(principal, gssapi.NameType.kerberos_principal) if principal else None
    store: dict[bytes | str, bytes | str] = {
        "client_keytab": str(keytab), "ccache": f"MEMORY:dataward-{uuid.uuid4().hex}"}
    return gssapi.Credentials(name=name, usage="initiate", store=store)


def _principal(user: str | None) -> str | None:
    """``user@REALM`` is a principal; ``DOMAIN\\user`` is not (the keytab's first entry is used)."""
    return user if user and "@" in user else None
