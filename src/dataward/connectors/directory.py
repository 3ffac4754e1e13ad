"""User directories: Active Directory over LDAP (ldap3), and the user exports schools
download from Google Workspace and Microsoft 365 as CSV.

Each account becomes one ``Account`` with what the leavers' audit needs: enabled or not,
last logon, when the password was last set, and the names and ids to match it to the MIS.
Only ``set_account_disabled`` writes, and only to ``userAccountControl``'s ACCOUNTDISABLE
bit of one account, after checking the account is still the one planned.
"""
from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (
    ConfigError,
    DatawardError,
    InputError,
    NotFoundError,
    TransientError,
    WrongKeyError,
)
from .credentials import read_secret
from .kerberos import kerberos_reason, ldap_credentials
from .schoolcsv import decode_export, norm_header
from .smb_acl import sid_string

if TYPE_CHECKING:
    from ..settings import Directory, Settings

ACCOUNTDISABLE = 0x0002
NORMAL_ACCOUNT = 0x0200
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
LDAP_ATTRS = ["objectGUID", "sAMAccountName", "userPrincipalName", "givenName", "sn",
              "displayName", "mail", "employeeID", "userAccountControl", "lastLogonTimestamp",
              "pwdLastSet", "distinguishedName"]


@dataclass(frozen=True)
class Account:
    directory: str
    key: str               # objectGUID (LDAP) or the primary e-mail address (CSV)
    login: str             # sAMAccountName or e-mail: shown masked outside the terminal
    given: str
    surname: str
    email: str
    employee_id: str
    enabled: bool
    last_logon: datetime | None
    password_set: datetime | None
    uac: int | None = None  # LDAP only
    line: int = 0          # CSV only: the export's line
    password_known: bool = True  # False: the export has no password date column


def find_directory(settings: Settings, name: str) -> Directory:
    for d in settings.accounts.directories:
        if d.name == name:
            return d
    raise ConfigError(f"no directory named {name!r} in accounts.directories",
                      hint="add it to the config, or correct smb.directory")


def filetime(value: Any) -> datetime | None:
    """AD's 100 ns intervals since 1601; 0 and 'never' (2**63-1) are None."""
    if isinstance(value, datetime):
        return value if value.year > 1601 else None
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    if n <= 0 or n >= 0x7FFFFFFFFFFFFFFF:
        return None
    return _FILETIME_EPOCH + timedelta(microseconds=n // 10)


# ---- LDAP -------------------------------------------------------------------------
def ldap_connect(d: Directory) -> Any:
    """A bound ldap3 connection: a simple bind, or SASL GSSAPI with ``auth: kerberos`` (use
    ldaps:// or start_tls on a real network either way)."""
    import ldap3
    from ldap3.core import exceptions as lx
    server = ldap3.Server(d.url, get_info=ldap3.DSA, connect_timeout=int(d.timeout_s))
    if d.auth != "kerberos":
        password = read_secret(d.password_file, d.password_env, f"the password of directory {d.name}")
        if not d.bind_user or password is None:
            raise ConfigError(f"directory {d.name}: no bind user or password",
                              hint=f"set bind_user and password_file (mode 0600) or ${d.password_env}")
        conn = ldap3.Connection(server, user=d.bind_user, password=password,
                                receive_timeout=int(d.timeout_s), read_only=False)
    try:
        if d.auth == "kerberos":
            creds = ldap_credentials(d)
            conn = ldap3.Connection(server, authentication=ldap3.SASL, sasl_mechanism=ldap3.KERBEROS,
                                    sasl_credentials=(None, None, creds) if creds is not None else None,
                                    receive_timeout=int(d.timeout_s), read_only=False)
        if d.start_tls:
            conn.open()
            conn.start_tls()
        if not conn.bind():
            result = conn.result or {}
            if result.get("result") == 49:
                raise WrongKeyError(f"directory {d.name}: the bind was refused: wrong user name or password",
                                    hint="check bind_user and the password file or variable")
            raise ConfigError(f"directory {d.name}: the bind was refused ({result.get('description', '')})")
    except lx.LDAPSocketOpenError:
        raise TransientError(f"directory {d.name}: {d.url} does not answer",
                             hint="check the server name, the network and the port") from None
    except lx.LDAPException as exc:
        raise TransientError(f"directory {d.name}: LDAP error ({type(exc).__name__})") from None
    except DatawardError:
        raise
    except Exception as exc:  # gssapi's errors: a missing or expired ticket, a keytab
        reason = kerberos_reason(exc)
        if reason is None:
            raise
        raise TransientError(f"directory {d.name}: {reason}",
                             hint="see docs/network.md, Kerberos") from None
    return conn


def base_dn(conn: Any, d: Directory) -> str:
    if d.base_dn:
        return d.base_dn
    info = conn.server.info
    ctx = info.other.get("defaultNamingContext") if info is not None else None
    if not ctx:
        raise ConfigError(f"directory {d.name}: set base_dn (the server did not say its own)")
    return str(ctx[0])


def _first(attrs: dict[str, Any], name: str) -> Any:
    v = attrs.get(name)
    if isinstance(v, list):
        return v[0] if v else None
    return v


def _account(d: Directory, attrs: dict[str, Any]) -> Account | None:
    guid = _first(attrs, "objectGUID")
    if not isinstance(guid, (bytes, bytearray)) or len(guid) != 16:
        return None
    uac = int(_first(attrs, "userAccountControl") or 0)

    def text(name: str) -> str:
        v = _first(attrs, name)
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v or "")

    return Account(d.name, str(uuid.UUID(bytes_le=bytes(guid))), text("sAMAccountName"),
                   text("givenName"), text("sn"), text("mail") or text("userPrincipalName"),
                   text("employeeID"), not uac & ACCOUNTDISABLE,
                   filetime(text("lastLogonTimestamp")), filetime(text("pwdLastSet")), uac)


def read_ldap(d: Directory, conn: Any | None = None) -> list[Account]:
    own = conn is None
    conn = conn or ldap_connect(d)
    try:
        entries = conn.extend.standard.paged_search(
            base_dn(conn, d), "(&(objectCategory=person)(objectClass=user))",
            attributes=LDAP_ATTRS, paged_size=500, generator=True)
        out = []
        for e in entries:
            if e.get("type") != "searchResEntry":
                continue
            acc = _account(d, e["raw_attributes"])
            if acc is not None:
                out.append(acc)
        return out
    finally:
        if own:
            conn.unbind()


# AD's LDAP_MATCHING_RULE_IN_CHAIN: the server follows nested memberships for us.
IN_CHAIN = "1.2.840.113556.1.4.1941"


@dataclass(frozen=True)
class SidDirectory:
    """What SMB permissions need from the directory, read once per scan."""

    names: dict[str, str]                 # objectSid -> sAMAccountName (groups and accounts)
    groups: dict[str, frozenset[str]]     # objectSid -> the wanted groups it is in, nested or not


def read_sid_directory(d: Directory, wanted: Iterable[str]) -> SidDirectory:
    """Every group's and account's SID and name, and for the groups ``wanted`` (names in
    any case, or SIDs: the keys of ``smb.audiences``) every account and group inside them
    however deep: a group that is a member of Pupils, and each pupil's account, count as
    Pupils. One paged query for the names and one in-chain query per wanted group.

    Membership through an account's primary group (Domain Users) is not a ``member``
    value and is not followed: every account has it, and it says nothing of a pupil."""
    if d.kind != "ldap":
        raise ConfigError(f"smb.directory must name an ldap directory; {d.name} is {d.kind}")
    from ldap3.utils.conv import escape_filter_chars
    conn = ldap_connect(d)
    try:
        base = base_dn(conn, d)
        names: dict[str, str] = {}
        group_dns: dict[str, tuple[str, str]] = {}  # casefolded name or SID -> (DN, name)
        for e in conn.extend.standard.paged_search(
                base, "(|(objectClass=group)(objectClass=user))",
                attributes=["objectSid", "sAMAccountName", "objectClass"], paged_size=1000,
                generator=True):
            if e.get("type") != "searchResEntry":
                continue
            raw = _first(e["raw_attributes"], "objectSid")
            name = _first(e["raw_attributes"], "sAMAccountName")
            if not raw or not name:
                continue
            sid, text = sid_string(bytes(raw)), name.decode("utf-8", "replace")
            names[sid] = text
            classes = {bytes(c).lower() for c in e["raw_attributes"].get("objectClass", [])}
            if b"group" in classes:
                group_dns[text.casefold()] = group_dns[sid.casefold()] = (e["dn"], text)
        groups: dict[str, set[str]] = {}
        for key in wanted:
            if key.casefold() not in group_dns:
                continue
            dn, label = group_dns[key.casefold()]
            for e in conn.extend.standard.paged_search(
                    base, f"(memberOf:{IN_CHAIN}:={escape_filter_chars(dn)})",
                    attributes=["objectSid"], paged_size=1000, generator=True):
                raw = _first(e.get("raw_attributes", {}), "objectSid") if e.get("type") == "searchResEntry" else None
                if raw:
                    groups.setdefault(sid_string(bytes(raw)), set()).add(label)
        return SidDirectory(names, {sid: frozenset(g) for sid, g in groups.items()})
    finally:
        conn.unbind()


def set_account_disabled(conn: Any, d: Directory, key: str, disabled: bool,
                         expect_uac: int | None = None) -> tuple[int, int]:
    """Set or clear ACCOUNTDISABLE on the account with objectGUID ``key``; nothing else
    changes. Returns (userAccountControl before, after)."""
    import ldap3
    guid = uuid.UUID(key).bytes_le
    escaped = "".join(f"\\{b:02x}" for b in guid)
    conn.search(base_dn(conn, d), f"(objectGUID={escaped})", attributes=["userAccountControl"])
    if not conn.entries:
        raise NotFoundError(f"directory {d.name}: account {key} no longer exists")
    entry = conn.entries[0]
    before = int(entry.userAccountControl.value)
    after = (before | ACCOUNTDISABLE) if disabled else (before & ~ACCOUNTDISABLE)
    if expect_uac is not None and before not in (expect_uac, after):
        raise InputError(f"directory {d.name}: account {key} changed since the plan "
                         f"(userAccountControl {expect_uac} -> {before})",
                         hint="make a new plan")
    if after != before:
        ok = conn.modify(entry.entry_dn, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [str(after)])]})
        if not ok:
            raise TransientError(f"directory {d.name}: the change was refused "
                                 f"({(conn.result or {}).get('description', '')})",
                                 hint="the bind user needs the right to write userAccountControl")
    return before, after


# ---- CSV exports ------------------------------------------------------------------
def _norm(h: str) -> str:
    """A heading as every school CSV reader compares it, without Google's "[Required]"."""
    return norm_header(h.split("[")[0])


def _when(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw or raw.lower() in ("never", "never logged in", "n/a"):
        return None
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ",
                "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p",
                "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw.replace(" UTC", ""), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


# Headings of each field, after _norm, in Google's and Microsoft's exports.
CSV_FIELDS = {
    "email": ("emailaddress", "userprincipalname", "primaryemail", "email"),
    "given": ("firstname", "givenname"),
    "surname": ("lastname", "surname", "familyname"),
    "status": ("status", "blockcredential", "accountenabled", "signinblocked"),
    "last": ("lastsignin", "lastlogin", "lastsignindate", "lastlogontime"),
    "pwd": ("lastpasswordchangetimestamp", "lastpasswordchange", "passwordlastchanged",
            "passwordlastset"),
    "employee": ("employeeid", "employeenumber"),
}


def read_csv_export(d: Directory) -> list[Account]:
    """A Google Workspace or Microsoft 365 users export."""
    assert d.path is not None
    try:
        raw = Path(d.path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the users export {d.path}: {exc.strerror}",
                         hint=f"check accounts.directories ({d.name})") from None
    text = decode_export(raw)[0]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise InputError(f"{Path(d.path).name} is empty")
    normed = [_norm(h) for h in header]
    col = {f: next((normed.index(n) for n in names if n in normed), None)
           for f, names in CSV_FIELDS.items()}
    if col["email"] is None:
        raise InputError(f"{Path(d.path).name}: no e-mail column (Email Address or User principal name)",
                         hint="download the users export again from the admin console")
    out = []
    for line_no, cells in enumerate(reader, start=2):
        def cell(f: str, cells: list[str] = cells) -> str:
            i = col[f]
            return cells[i].strip() if i is not None and i < len(cells) else ""
        email = cell("email")
        if not email:
            continue
        status = cell("status").lower()
        if d.kind == "m365-csv" and col["status"] is not None and normed[col["status"]] == "blockcredential":
            enabled = status not in ("true", "yes", "1")
        else:
            enabled = status not in ("suspended", "archived", "disabled", "false", "blocked")
        out.append(Account(d.name, email.lower(), email, cell("given"), cell("surname"), email,
                           cell("employee"), enabled, _when(cell("last")), _when(cell("pwd")),
                           None, line_no, col["pwd"] is not None))
    return out


def read_directory(d: Directory) -> list[Account]:
    return read_ldap(d) if d.kind == "ldap" else read_csv_export(d)
