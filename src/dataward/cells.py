"""Text that came from outside (folder names, an approver's name, an asset's notes) made
safe for the documents people open: spreadsheet cells and Markdown.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in
some, a tab, a carriage return or their full-width forms) as a formula: ``=HYPERLINK(...)``
in an approver's name would become a live link in the auditor's copy of the deletion
record. Every CSV dataward writes passes each cell through ``csv_cell`` (OWASP's advice:
prefix such a cell with an apostrophe, which spreadsheets show as text).

Markdown renderers pass inline HTML through, so a folder named ``<svg onload=alert(1)>``
would be live in a viewer, and ``[x](javascript:...)`` a link; ``markdown_text`` escapes
HTML, link brackets, backticks and table pipes.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from typing import IO, Any

_FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Link and image syntax, code spans and table cells; emphasis marks (* _) are left as they
# are: they can only change how text looks, and masked previews are made of asterisks.
_MD_SPECIAL = re.compile(r"([\\`\[\]|])")


def csv_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will show it, never run it (non-text passes as it is)."""
    if isinstance(value, str) and value and (value[0] in _FORMULA_START
                                             or value.lstrip()[:1] in _FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def write_csv(fh: IO[str], header: Sequence[str], rows: Iterable[Iterable[Any]], **kwargs: Any) -> None:
    """Write a header and rows to ``fh``, every cell neutralised."""
    w = csv.writer(fh, **kwargs)
    w.writerow(header)
    for row in rows:
        w.writerow(csv_row(row))


def markdown_text(value: object) -> str:
    """``value`` as literal text inside a Markdown document (one line)."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text
