"""SMB file shares read in place: ``smb://server/share/folder`` sources.

Read-only: files are opened for read data, read attributes and read control only, with
full sharing (a teacher's open document is never blocked by the scan), and their bytes
stay in memory. SMB 2/3 with signing always; with encryption when the server offers it
(``smb.encrypt: auto``), or required. Credentials come from a protected file or the
environment (``connectors.credentials``), or Kerberos (``connectors.kerberos``: a keytab
or the ticket cache), never from the config.

The walk lists each folder once (FileIdFullDirectoryInformation gives the server's file
id, size, write and change time in the listing) and reads each folder's security
descriptor, so an unchanged rescan costs one round trip per folder. Items are keyed for
incremental scans on (file id, size, change time): the change time moves when a file is
written *and* when its permissions change, so a file whose audience changed is looked at
again. Worker processes are forked from the scan: each process keeps its own
connections (a socket is never shared across a fork).
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from ..errors import ConfigError, DatawardError
from .credentials import read_secret
from .filesystem import FileEntry, glob_spec
from .kerberos import smb_credential
from .smb_acl import Descriptor, folder_origins, parse_sd
from .smb_errors import SmbError, is_stale, reason_for, smb_error

if TYPE_CHECKING:
    from ..settings import Settings, Smb, Source

log = logging.getLogger("dataward.smb")

# FILE_READ_DATA | FILE_READ_EA | FILE_READ_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE
READ_ACCESS = 0x00000001 | 0x00000008 | 0x00000080 | 0x00020000 | 0x00100000
LIST_ACCESS = 0x00000001 | 0x00000080 | 0x00020000 | 0x00100000
FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_REPARSE_POINT = 0x10, 0x400
OWNER_GROUP_DACL = 0x1 | 0x2 | 0x4
# Windows FILETIME (100 ns since 1601) -> Unix ns
_EPOCH_DIFF_100NS = 116444736000000000


def is_smb_path(value: object) -> bool:
    """True for ``smb://...`` or ``\\\\server\\share`` (also once made a Path: ``smb:/...``)."""
    text = str(value)
    return text.lower().startswith("smb:/") or text.startswith("\\\\")


@dataclass(frozen=True)
class SmbUrl:
    server: str
    share: str
    folder: tuple[str, ...]   # path inside the share, one name per level
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> SmbUrl:
        if url.startswith("\\\\"):
            parts = [p for p in url[2:].split("\\") if p]
            if len(parts) < 2:
                raise ConfigError(f"{url}: an SMB path needs a server and a share (\\\\server\\share)")
            return cls(parts[0], parts[1], tuple(parts[2:]))
        u = urlsplit(url)
        parts = [unquote(p) for p in u.path.split("/") if p]
        if u.scheme.lower() != "smb" or not u.hostname or not parts:
            raise ConfigError(f"{url}: expected smb://server/share[/folder...]")
        if u.username or u.password:
            raise ConfigError("an SMB source must not hold a user name or password in its URL",
                              hint="set smb.username and smb.password_file (or the environment)")
        return cls(u.hostname, parts[0], tuple(parts[1:]), u.port)

    def unc(self, *names: str) -> str:
        """``\\\\server\\share\\Year 6\\...`` as the school sees it."""
        return "\\".join([f"\\\\{self.server}", self.share, *self.folder, *names])

    def locator(self, rel: str) -> str:
        path = "/".join([self.share, *self.folder, *([rel] if rel else [])])
        return f"smb://{self.server}/" + quote(path, safe="/-._~$&'()*+,;=:@")


@dataclass(frozen=True)
class SmbEntry(FileEntry):
    """A walked SMB item. ``path`` is the UNC path; ``inode`` the server's file id;
    ``mtime_ns`` the change time (moves on writes and on permission changes)."""

    source: str = ""
    url: str = ""
    write_ns: int = 0
    # (SID, folder the grant comes from) of the containing folder, for inherited grants
    origins: tuple[tuple[str, str], ...] = ()

    @property
    def locator(self) -> str:
        return SmbUrl.parse(self.url).locator(self.rel)

    @property
    def display_path(self) -> str:
        return self.path


def filetime_ns(ft: Any) -> int:
    """smbprotocol gives FILETIMEs as datetimes or 100 ns ints; Unix ns either way."""
    if hasattr(ft, "timestamp"):
        return round(ft.timestamp() * 1e6) * 1000
    return (int(ft) - _EPOCH_DIFF_100NS) * 100


# ---- connections ------------------------------------------------------------------
@dataclass
class SmbClient:
    """One service account's access to the servers of the SMB sources. Connections are
    kept per process (a forked worker opens its own) and per client (new credentials
    never ride on an old session)."""

    config: Smb
    _sessions: dict[tuple[str, int, int], bool] = field(default_factory=dict)
    _caches: dict[int, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cache(self) -> dict[str, Any]:
        with self._lock:
            return self._caches.setdefault(os.getpid(), {})

    def close(self) -> None:
        """Log off this process's sessions (a parent's connections are left alone)."""
        import smbclient
        cache = self._caches.pop(os.getpid(), None)
        if cache:
            smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)
        self._sessions = {k: v for k, v in self._sessions.items() if k[2] != os.getpid()}

    @cached_property
    def password(self) -> str | None:
        return read_secret(self.config.password_file, self.config.password_env, "the SMB password")

    def logon(self) -> dict[str, Any]:
        """How the service account logs on: its password over NTLM, or Kerberos."""
        if self.config.auth == "kerberos":
            return {"username": self.kerberos_credential, "password": None, "auth_protocol": "kerberos"}
        if not self.config.username:
            raise ConfigError("no user name for SMB shares", hint="set smb.username in the config")
        if self.password is None:
            raise ConfigError("no SMB password",
                              hint=f"set smb.password_file (mode 0600) or ${self.config.password_env}")
        return {"username": self.config.username, "password": self.password, "auth_protocol": "ntlm"}

    @cached_property
    def kerberos_credential(self) -> Any:
        return smb_credential(self.config)

    def forget_if_stale(self, exc: BaseException) -> None:
        """After a share was removed or a session ended, log on afresh next time (a
        cached tree would fail every later request, this scan's and the next's)."""
        if is_stale(exc):
            self.close()

    def kwargs(self, url: SmbUrl) -> dict[str, Any]:
        return {"port": url.port or self.config.port, "connection_cache": self.cache()}

    def connect(self, url: SmbUrl) -> bool:
        """Log on to the server (once per process); True when the session is encrypted."""
        import smbclient
        from smbprotocol.exceptions import SMBException
        port = url.port or self.config.port
        key = (url.server.lower(), port, os.getpid())
        if key in self._sessions:
            return self._sessions[key]
        common: dict[str, Any] = {
            "port": port, "connection_timeout": self.config.timeout_s,
            "connection_cache": self.cache(), **self.logon()}
        choices: dict[str, list[bool | None]] = {"required": [True], "off": [None],
                                                  "auto": [True, None]}
        modes = choices[self.config.encrypt]
        last: BaseException | None = None
        for encrypt in modes:
            try:
                session = smbclient.register_session(url.server, encrypt=encrypt, **common)
            except Exception as exc:  # noqa: BLE001 - translated below
                last = exc
                if encrypt and isinstance(exc, SMBException) and "encrypt" in str(exc).lower():
                    continue  # the server cannot encrypt: signed only (auto)
                raise smb_error(exc, url.unc()) from None
            encrypted = bool(getattr(session, "encrypt_data", False))
            self._sessions[key] = encrypted
            if not encrypted:
                log.warning("SMB session to %s is signed but not encrypted", url.server)
            return encrypted
        raise smb_error(last or RuntimeError("no session"), url.unc()) from None


# ---- security descriptors ---------------------------------------------------------
def _sd_request(file_id: bytes) -> Any:
    from smbprotocol.file_info import InfoType
    from smbprotocol.open import SMB2QueryInfoRequest
    req = SMB2QueryInfoRequest()
    req["info_type"] = InfoType.SMB2_0_INFO_SECURITY
    req["file_info_class"] = 0
    req["output_buffer_length"] = 65535
    req["additional_information"] = OWNER_GROUP_DACL
    req["file_id"] = file_id
    return req


def _sd_response(connection: Any, request: Any) -> Descriptor:
    from smbprotocol.open import SMB2QueryInfoResponse
    response = connection.receive(request)
    resp = SMB2QueryInfoResponse()
    resp.unpack(response["data"].get_value())
    return parse_sd(resp["buffer"].get_value())


def query_sd(open_: Any) -> Descriptor:
    """The owner and DACL of an open handle (SMB2 QUERY_INFO, security information)."""
    tree = open_.tree_connect
    request = open_.connection.send(_sd_request(open_.file_id), sid=tree.session.session_id,
                                    tid=tree.tree_connect_id)
    return _sd_response(open_.connection, request)


def folder_sd(unc: str, client: SmbClient, url: SmbUrl) -> Descriptor:
    """A folder's descriptor in one round trip (create, query and close compounded)."""
    from smbclient._io import SMBDirectoryIO, SMBFileTransaction
    raw = SMBDirectoryIO(unc, mode="r", share_access="rwd", desired_access=LIST_ACCESS,
                         **client.kwargs(url))
    tr = SMBFileTransaction(raw)
    tr += (_sd_request(raw.fd.file_id), lambda request: _sd_response(raw.fd.connection, request))
    tr.commit()
    return tr.results[0]


# ---- walking ----------------------------------------------------------------------
def _origins_to_root(client: SmbClient, url: SmbUrl) -> dict[str, str]:
    """Inheritance origins of the source's own folder, followed down from the share root."""
    origins: dict[str, str] = {}
    for depth in range(len(url.folder) + 1):
        level = SmbUrl(url.server, url.share, url.folder[:depth], url.port)
        unc = level.unc()
        origins = folder_origins(folder_sd(unc, client, url), unc, origins)
    return origins


def walk_smb(source: Source, client: SmbClient) -> Iterator[SmbEntry]:
    """Every file under an SMB source that its globs select, with its folder's
    inheritance origins. A folder that cannot be listed is one ``dir-error`` entry with
    the reason (the previous scan's items below it are kept, see pipelines.scan)."""
    import smbclient
    assert source.url is not None
    url = SmbUrl.parse(source.url)
    include, exclude = glob_spec(source.include), glob_spec(source.exclude)
    kw = client.kwargs(url)

    def error(unc: str, rel: str, exc: BaseException, what: str) -> SmbEntry:
        return SmbEntry(unc, rel, "dir-error", error=f"{what}: {reason_for(exc)}",
                        source=source.name, url=source.url or "")

    try:
        try:
            client.connect(url)
            origins = _origins_to_root(client, url)
        except Exception as exc:  # a session left from a share since removed
            if not is_stale(exc):
                raise
            client.close()       # log on afresh once: the share may be back, or say it is not
            client.connect(url)
            origins = _origins_to_root(client, url)
    except DatawardError as exc:  # credentials, logon, unreachable server
        detail = exc.message.split(": ", 1)[-1] if isinstance(exc, SmbError) else str(exc)
        yield SmbEntry(url.unc(), "", "dir-error", error=f"cannot open the share: {detail}",
                       source=source.name, url=source.url)
        return
    except Exception as exc:  # noqa: BLE001 - an unreachable share is an entry, not a crash
        client.forget_if_stale(exc)
        yield error(url.unc(), "", exc, "cannot open the share")
        return
    stack: list[tuple[str, str, dict[str, str]]] = [(url.unc(), "", origins)]
    while stack:
        unc, rel, here = stack.pop()
        try:
            with smbclient.scandir(unc, **kw) as it:
                listed = sorted(it, key=lambda d: d.name)
        except Exception as exc:  # noqa: BLE001 - any SMB fault is an entry for this folder
            client.forget_if_stale(exc)
            yield error(unc, rel or ".", exc, "cannot list folder")
            continue
        packed = tuple(sorted(here.items()))
        subdirs = []
        for de in listed:
            info = de.smb_info
            child_rel = f"{rel}/{de.name}" if rel else de.name
            child_unc = f"{unc}\\{de.name}"
            attrs = info.file_attributes
            if attrs & FILE_ATTRIBUTE_DIRECTORY and not attrs & FILE_ATTRIBUTE_REPARSE_POINT:
                if exclude.match_file(child_rel + "/"):
                    continue
                try:
                    sub = folder_origins(folder_sd(child_unc, client, url), child_unc, here)
                except Exception as exc:  # noqa: BLE001 - any SMB fault is an entry for this folder
                    client.forget_if_stale(exc)
                    yield error(child_unc, child_rel, exc, "cannot read the folder's permissions")
                    continue
                subdirs.append((child_unc, child_rel, sub))
                continue
            if not include.match_file(child_rel) or exclude.match_file(child_rel):
                continue
            kind = "symlink" if attrs & FILE_ATTRIBUTE_REPARSE_POINT else "file"
            yield SmbEntry(child_unc, child_rel, kind, size=info.end_of_file,
                           mtime_ns=filetime_ns(info.change_time), inode=info.file_id,
                           error="a reparse point (link or junction): not followed" if kind == "symlink" else "",
                           source=source.name, url=source.url, write_ns=filetime_ns(info.last_write_time),
                           origins=packed)
        stack.extend(reversed(subdirs))


# ---- reading ----------------------------------------------------------------------
@dataclass
class SmbRead:
    data: bytes
    sd: Descriptor | None
    sd_error: str = ""


class ItemChanged(ValueError):
    """The item is not the one the walk saw (replaced or written meanwhile)."""


def read_smb(entry: SmbEntry, client: SmbClient, limit: int) -> SmbRead:
    """Read one walked file and its security descriptor through one handle.

    Raises ItemChanged, or OSError/SMBException (``reason_for`` says why)."""
    from smbclient._io import SMBFileIO
    url = SmbUrl.parse(entry.url)
    client.connect(url)
    raw = SMBFileIO(entry.path, mode="rb", share_access="rwd", desired_access=READ_ACCESS,
                    **client.kwargs(url))
    try:
        raw.open()
    except Exception as exc:
        client.forget_if_stale(exc)
        raise
    try:
        fd = raw.fd
        if fd.file_id is None:
            raise ItemChanged("could not be opened")
        if int(fd.end_of_file) != entry.size or filetime_ns(fd.change_time) != entry.mtime_ns:
            raise ItemChanged("changed while being read (it will be read again next scan)")
        try:
            sd: Descriptor | None = query_sd(fd)
            sd_error = ""
        except Exception as exc:  # noqa: BLE001 - contents are still worth reading
            sd, sd_error = None, f"permissions unreadable: {reason_for(exc)}"
        chunks, total = [], 0
        while total <= limit:
            chunk = raw.read(min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total != entry.size:
            raise ItemChanged("changed while being read (it will be read again next scan)")
        return SmbRead(b"".join(chunks), sd, sd_error)
    finally:
        raw.close()


_CLIENTS: dict[int, SmbClient] = {}


def client_for(settings: Settings) -> SmbClient:
    """The SmbClient of this process for these settings (one per process)."""
    client = _CLIENTS.get(id(settings))
    if client is None or client.config is not settings.smb:
        for old in _CLIENTS.values():
            old.close()
        _CLIENTS.clear()
        client = _CLIENTS[id(settings)] = SmbClient(settings.smb)
    return client
