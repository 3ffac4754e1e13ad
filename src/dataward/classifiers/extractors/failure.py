"""Why an item could not be read, in words that never quote the document, and a log
record of the cause for whoever runs ``dataward --debug`` (or ``--verbose``).

A damaged file and a fault in dataward's own code are different things: a KeyError
raised by zipfile is a missing part (a corrupt container); a KeyError, TypeError or
AttributeError raised in dataward's code is a programming error, and saying "corrupt"
would send the school looking for damage that is not there. The log names the exception
type and the frames (file, line, function) only: parsers' messages can quote the
document."""
from __future__ import annotations

import hashlib
import logging
import traceback
import zipfile
from pathlib import Path

log = logging.getLogger("dataward.scan.extract")
_OWN_CODE = str(Path(__file__).resolve().parents[2])  # the dataward package
_PROGRAMMING = (TypeError, AttributeError, NameError, KeyError, IndexError, AssertionError,
                UnboundLocalError, ZeroDivisionError)


def _raised_in_own_code(exc: BaseException) -> str | None:
    """``module.py:line`` where dataward's own code raised ``exc``, else None."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames or not str(Path(frames[-1].filename).resolve()).startswith(_OWN_CODE):
        return None
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def item_ref(locator: str) -> str:
    """How a log names an item: a file name can name a pupil, so logs carry the first 12
    hex digits of the SHA-256 of its locator (hash the locators in items.parquet to find
    it)."""
    return hashlib.sha256(locator.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def failure_reason(fmt: str, exc: BaseException, locator: str = "") -> str:
    """The item's reason for ``exc``; logs the cause at debug level."""
    frames = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                         for f in reversed(traceback.extract_tb(exc.__traceback__)[-8:]))
    ref = f"item {item_ref(locator)}" if locator else "an item"
    log.debug("cannot read %s (%s): %s raised at %s", ref, fmt, type(exc).__name__, frames)
    where = _raised_in_own_code(exc) if isinstance(exc, _PROGRAMMING) else None
    if where:
        log.warning("internal error reading %s (%s): %s at %s", ref, fmt,
                    type(exc).__name__, where)
        return (f"internal error in dataward while reading {fmt} ({type(exc).__name__} at "
                f"{where}); the file may be fine: please report it")
    if isinstance(exc, (zipfile.BadZipFile, KeyError)):
        return f"corrupt {fmt}: not a valid {fmt} container ({type(exc).__name__})"
    if type(exc).__name__ in ("PdfiumError", "PdfReadError"):
        return f"corrupt {fmt}: the parser could not open it ({type(exc).__name__})"
    if isinstance(exc, MemoryError):
        return f"{fmt} too large to read in memory"
    if type(exc).__name__ == "DecompressionBombError":
        return f"{fmt} image too large to decode safely (decompression bomb limit)"
    return f"cannot read {fmt}: {type(exc).__name__}"
