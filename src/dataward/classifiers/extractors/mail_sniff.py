"""Mail files recognised by content, whatever they are called: an RFC 5322 message (an
.eml, or a message saved with no extension), an Outlook .msg (an OLE2 file with MAPI
property streams) and TNEF (winmail.dat). mbox ("From " first line) and PST ("!BDN")
have plain magic numbers that sniff.py checks itself."""
from __future__ import annotations

import os
import re
from typing import IO

# What a container is opened from: a path or a file object.
Opener = str | os.PathLike[str] | IO[bytes]

TNEF_MAGIC = b"\x78\x9f\x3e\x22"
_HEADER = re.compile(rb"([A-Za-z0-9][A-Za-z0-9-]{0,60})[ \t]*:")
# Headers nearly every message has; two of them (one an origin header) make a message.
_CORE = {b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"received",
         b"return-path", b"mime-version", b"delivered-to", b"x-mailer", b"reply-to",
         b"in-reply-to", b"references", b"sender", b"x-original-to"}
_ORIGIN = {b"from", b"received", b"return-path", b"message-id", b"delivered-to", b"sender"}
# MAPI property stream names, UTF-16LE, as they appear in an OLE2 directory sector.
_MSG_STREAMS = ("__substg1.0_".encode("utf-16-le"), "__properties_version1.0".encode("utf-16-le"))


def looks_like_message(head: bytes) -> bool:
    """True when ``head`` opens with an RFC 5322 header block of a mail message."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    names: set[bytes] = set()
    for n, line in enumerate(head.split(b"\n")):
        line = line.rstrip(b"\r")
        if not line:
            break  # end of the header block
        if line[:1] in (b" ", b"\t"):
            if n == 0:
                return False
            continue  # a folded header line
        m = _HEADER.match(line)
        if not m:
            if n == 0 or len(line) < 200:
                return False
            break  # a very long line cut by the head: judge on what came before
        names.add(m.group(1).lower())
        if n > 200:
            break
    core = names & _CORE
    return len(core) >= 2 and bool(core & _ORIGIN)


def looks_like_mbox(head: bytes) -> bool:
    """A "From " envelope line followed by a message's header block."""
    nl = head.find(b"\n")
    return head.startswith(b"From ") and nl > 0 and looks_like_message(head[nl + 1:])


def is_outlook_msg(head: bytes, opener: Opener | None = None) -> bool:
    """An OLE2 file holding MAPI property streams (an Outlook item saved as .msg)."""
    if any(s in head for s in _MSG_STREAMS):
        return True
    if opener is None:
        return False
    try:
        import olefile
        stream = None if isinstance(opener, (str, os.PathLike)) else opener
        pos = stream.tell() if stream is not None else None
        try:
            ole = olefile.OleFileIO(opener)
            try:
                return bool(ole.exists("__properties_version1.0"))
            finally:
                ole.close()
        finally:
            if stream is not None and pos is not None:
                stream.seek(pos)
    except Exception:  # noqa: BLE001 - a damaged OLE file is just not a .msg
        return False
