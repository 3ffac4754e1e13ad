"""Items inside a container for a subject access request: one message of a mailbox (an
mbox, a PST, a message attached to a message), an attachment, a member of an archive.

A whole mailbox holds other people's mail, so it is never disclosed for one person: the
one message (or member) is taken out of it, as the scan took it out, and packaged on its
own. A message becomes an ``.eml`` file (RFC 5322, as Thunderbird and Outlook open it);
an attachment or an archive member keeps its name.

The container is read as a file selected for a package is (inside the allowed roots, no
link followed); each level is split by the scan's own extractors, and the member's bytes
must have the SHA-256 the scan recorded, so what is packaged is what the scan found."""
from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..classifiers.extractors import UnsupportedFormat, extract
from ..classifiers.sniff import sniff
from ..errors import RefusedError
from ..pipelines.scan import top_locator
from ..settings import Settings
from ..transfer.selection import select_files

SEPARATORS = ("!/", "#")
_UNSAFE = re.compile(r"[^\w .,()+-]+")


@dataclass(frozen=True)
class MemberFile:
    locator: str
    arcname: str       # its name in the package
    data: bytes


def is_member(locator: str) -> bool:
    """A message of a mailbox or a member of an archive (not a file of its own)."""
    return top_locator(locator) != locator


def steps(locator: str) -> list[tuple[str, str]]:
    """The (separator, name) steps from the file down to the member, as far as the
    locator alone tells (a name holding a separator is resolved against the extractors)."""
    rest = locator[len(top_locator(locator)):]
    parts = re.split(r"(!/|#)", rest)[1:]
    return list(zip(parts[::2], parts[1::2]))


def inside(locator: str) -> str:
    """Where in its file a member is, in words: ``message 3``, ``message 3 > report.docx``."""
    words = []
    for sep, name in steps(locator):
        words.append(f"message {name}" if sep == "#" else name)
    return " > ".join(words)


def _is_message(sep: str, data: bytes, name: str) -> bool:
    return sep == "#" or sniff(name, data[:4096]) in ("eml", "msg")


def arcname_for(top_name: str, locator: str, data: bytes) -> str:
    sep, name = steps(locator)[-1]
    where = inside(locator).replace(" > ", " - ")
    base = _UNSAFE.sub("_", f"{PurePosixPath(top_name).name} - {where}").strip()
    if _is_message(sep, data, name):
        return f"{base.removesuffix('.eml')}.eml"
    return base


def _read(path: str, limit: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise RefusedError("a mailbox or archive is larger than scan.max_file_mb: its "
                           "members cannot be taken out of it here")
    return data


def extract_member(settings: Settings, top_path: str, locator: str, sha256: str) -> MemberFile:
    """The bytes of the member ``locator`` of the file at ``top_path``, checked against
    the SHA-256 the scan recorded for it."""
    sel = select_files([top_path], settings)       # the roots and link rules of a package
    data = _read(sel.files[0].path, int(settings.scan.max_file_mb * (1 << 20)))
    rest = locator[len(top_locator(locator)):]
    name = PurePosixPath(top_path).name
    while rest:
        try:
            children = extract(sniff(name, data[:4096], io.BytesIO(data)), data).children
        except UnsupportedFormat:
            children = []
        match = max((m for m in children if m.data is not None
                     and rest.startswith(m.sep + m.name)
                     and (len(rest) == len(m.sep + m.name)
                          or rest[len(m.sep + m.name):].startswith(SEPARATORS))),
                    key=lambda m: len(m.name), default=None)
        if match is None or match.data is None:
            raise RefusedError("a message or member is no longer in its mailbox or archive",
                               hint="scan again, then export again")
        rest, data, name = rest[len(match.sep + match.name):], match.data, match.name
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise RefusedError("a message or member changed since the scan",
                           hint="scan again, then export again")
    return MemberFile(locator, arcname_for(top_path, locator, data), data)
