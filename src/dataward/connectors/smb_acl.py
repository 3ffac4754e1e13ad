"""Who may read an item on an SMB share, from its Windows security descriptor.

The self-relative descriptor the server returns is parsed here ([MS-DTYP] 2.4.6): smbprotocol's
``SMB2CreateSDBuffer`` refuses ACL revision 3, which real servers write. An item's
readers are the accounts and groups an ACCESS_ALLOWED entry grants read to (read data,
generic read or generic all), less those a matching ACCESS_DENIED entry refuses; entries
marked inherit-only do not apply to the item itself. A missing DACL lets everyone in.

For each reader we also say where the permission comes from: an entry set on the item
itself, or the nearest folder above it where that entry was set explicitly (the folder a
school technician would change). Inheritance is followed down from the share root, so a
folder whose inheritance was broken (protected DACL) is its own origin.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

# ACE flags and access bits [MS-DTYP] 2.4.4.1, 2.4.3
OBJECT_INHERIT, CONTAINER_INHERIT, INHERIT_ONLY, INHERITED = 0x01, 0x02, 0x08, 0x10
FILE_READ_DATA, GENERIC_ALL, GENERIC_READ = 0x00000001, 0x10000000, 0x80000000
READ_BITS = FILE_READ_DATA | GENERIC_ALL | GENERIC_READ
SE_DACL_PRESENT = 0x0004
ACCESS_ALLOWED, ACCESS_DENIED = 0x00, 0x01

EVERYONE = "S-1-1-0"
# Well-known SIDs by the names schools see in the Security tab.
WELL_KNOWN = {
    "S-1-1-0": "Everyone", "S-1-5-11": "Authenticated Users", "S-1-5-18": "SYSTEM",
    "S-1-3-0": "CREATOR OWNER", "S-1-3-1": "CREATOR GROUP", "S-1-5-32-544": "Administrators",
    "S-1-5-32-545": "Users", "S-1-5-32-546": "Guests", "S-1-5-7": "ANONYMOUS LOGON",
    "S-1-5-4": "INTERACTIVE", "S-1-5-2": "NETWORK", "S-1-5-32-551": "Backup Operators",
}


@dataclass(frozen=True)
class Ace:
    allow: bool
    sid: str
    mask: int
    flags: int

    @property
    def reads(self) -> bool:
        return bool(self.mask & READ_BITS)

    @property
    def inherited(self) -> bool:
        return bool(self.flags & INHERITED)


@dataclass(frozen=True)
class Descriptor:
    owner: str
    dacl: tuple[Ace, ...] | None   # None: no DACL at all (everyone has full access)


def sid_string(data: bytes, off: int = 0) -> str:
    """A binary SID (as in a descriptor or an objectSid attribute) as S-1-5-21-..."""
    rev, count = data[off], data[off + 1]
    authority = int.from_bytes(data[off + 2:off + 8], "big")
    subs = struct.unpack_from(f"<{count}I", data, off + 8)
    return "-".join(["S", str(rev), str(authority), *map(str, subs)])


def parse_sd(data: bytes) -> Descriptor:
    """A self-relative security descriptor as the server returns it.

    Raises ValueError when the bytes are not one."""
    try:
        _rev, _sbz, control, o_owner, _o_group, _o_sacl, o_dacl = struct.unpack_from("<BBHIIII", data)
        owner = sid_string(data, o_owner) if o_owner else ""
        if not control & SE_DACL_PRESENT or not o_dacl:
            return Descriptor(owner, None)
        _acl_rev, _sbz1, _size, count, _sbz2 = struct.unpack_from("<BBHHH", data, o_dacl)
        aces, off = [], o_dacl + 8
        for _ in range(count):
            kind, flags, size = struct.unpack_from("<BBH", data, off)
            if kind in (ACCESS_ALLOWED, ACCESS_DENIED):
                (mask,) = struct.unpack_from("<I", data, off + 4)
                aces.append(Ace(kind == ACCESS_ALLOWED, sid_string(data, off + 8), mask, flags))
            # other types (audit, object, callback) do not grant read on a file
            if size < 4:
                raise ValueError("ACE size")
            off += size
    except (struct.error, IndexError) as exc:
        raise ValueError(f"not a security descriptor ({exc})") from None
    return Descriptor(owner, tuple(aces))


def readers(sd: Descriptor) -> dict[str, bool]:
    """SIDs that may read the object itself -> True when that grant is inherited."""
    if sd.dacl is None:
        return {EVERYONE: False}
    allowed: dict[str, bool] = {}
    denied: set[str] = set()
    for ace in sd.dacl:
        if ace.flags & INHERIT_ONLY or not ace.reads:
            continue
        if not ace.allow:
            denied.add(ace.sid)
        else:  # inherited only when every grant to that SID is inherited
            allowed[ace.sid] = allowed.get(ace.sid, True) and ace.inherited
    return {sid: inh for sid, inh in allowed.items() if sid not in denied}


def folder_origins(sd: Descriptor, folder: str, parent: dict[str, str]) -> dict[str, str]:
    """For a folder: SID -> the folder its children's inherited read comes from.

    ``parent`` is the same map for the folder above (empty at the top of the walk)."""
    out: dict[str, str] = {}
    if sd.dacl is None:
        return {EVERYONE: folder}
    for ace in sd.dacl:
        if not ace.allow or not ace.reads or not ace.flags & (OBJECT_INHERIT | CONTAINER_INHERIT):
            continue
        if ace.inherited:
            out.setdefault(ace.sid, parent.get(ace.sid, folder))
        else:
            out[ace.sid] = folder
    return out


@dataclass
class SidNames:
    """SID -> name for display and for the config's audience map (names from the
    directory, well-known SIDs built in), and SID -> the mapped groups it is a member of,
    directly or through nested groups (``directory.read_sid_directory``)."""

    names: dict[str, str] = field(default_factory=lambda: dict(WELL_KNOWN))
    groups: dict[str, frozenset[str]] = field(default_factory=dict)

    def name(self, sid: str) -> str | None:
        return self.names.get(sid)


@dataclass(frozen=True)
class Access:
    """Who can read one item, in the words the report uses."""

    readers: tuple[str, ...]           # group or account names (a SID when unknown), with
                                       # "(member of Pupils)" when membership decides
    origins: tuple[tuple[str, str], ...]  # (reader, folder or item the grant comes from)
    audience: str | None               # the widest mapped audience, None when none maps
    unknown: tuple[str, ...]           # SIDs no directory or well-known table names
    owner: str


def describe(sd: Descriptor, item: str, origins: dict[str, str], names: SidNames,
             audiences: dict[str, str], factors: dict[str, float]) -> Access:
    """Readers, where their permission comes from, and the audience they add up to.

    ``origins`` is the containing folder's map from ``folder_origins``; ``audiences``
    maps group names (any case) or SIDs to audiences; ``factors`` ranks audiences
    (the risk weights: the widest audience has the largest factor). A reader counts as
    each mapped group it is in (``names.groups``): a nested group of Pupils, or a
    pupil's own account, is read as Pupils."""
    amap = {k.casefold(): v for k, v in audiences.items()}
    found: list[tuple[str, str]] = []
    unknown: list[str] = []
    best: str | None = None
    for sid, inherited in sorted(readers(sd).items()):
        name = names.name(sid)
        if name is None:
            unknown.append(sid)
        label = name or sid
        via = sorted(names.groups.get(sid, ()))
        if via:
            label += f" (member of {'/'.join(via)})"
        found.append((label, origins.get(sid, item) if inherited else item))
        for candidate in (sid, name, *via):
            aud = amap.get(candidate.casefold()) if candidate else None
            if aud is not None and (best is None or factors.get(aud, 1.0) > factors.get(best, 1.0)):
                best = aud
    owner = names.name(sd.owner) or sd.owner
    return Access(tuple(r for r, _ in found), tuple(found), best, tuple(unknown), owner)
