"""The parts of an Excel workbook that openpyxl's streaming reader does not give: cell
comments and notes, threaded comments, text in shapes and text boxes, page headers and
footers, and formula cells saved without a value (a workbook written by a program rather
than by Excel has formulas but no results). Simple string formulas (``="Dear "&B2``,
``CONCATENATE(B2," ",C2)``) are worked out; any other such cell is counted as not read,
and the item says so."""
from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from .base import TextBuilder

_A_T = re.compile(rb"<(?:a:)?t(?:\s[^>]*)?>([^<]*)</(?:a:)?t>")
_COMMENT = re.compile(rb"<(?:\w+:)?(?:comment|threadedComment)\b[^>]*\bref=\"([A-Z]+[0-9]+)\"[^>]*>(.*?)"
                      rb"</(?:\w+:)?(?:comment|threadedComment)>", re.DOTALL)
_TEXT = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t>")
_HEADER_FOOTER = re.compile(rb"<((?:odd|even|first)(?:Header|Footer))>([^<]*)</\1>")
# A formula cell saved without its value: <c r="B2" ...><f>...</f></c> (or an empty <v/>).
_UNCACHED = re.compile(rb"<c\s[^>]*?\br=\"([A-Z]+[0-9]+)\"[^>]*>\s*<f(?:\s[^>]*)?>([^<]*)</f>"
                       rb"\s*(?:<v\s*/>|<v></v>)?\s*</c>")
_HF_CODE = re.compile(r"&(?:\"[^\"]*\"|\d+|[LCRPNDTZFABUSXYEKGHO&])")
_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]+)")
CHUNK = 1 << 20
MAX_FORMULAS = 10_000


@dataclass
class WorkbookParts:
    formulas_not_read: int = 0
    notes: list[str] = field(default_factory=list)


def add_workbook_parts(zf: zipfile.ZipFile, sheets: list[tuple[str, str]],
                       values_of: Callable[[str, set[str]], dict[str, object]],
                       builder: TextBuilder) -> WorkbookParts:
    """Add comments, shapes' text, headers/footers and uncached formulas to ``builder``.
    ``sheets``: (title, part name in the package); ``values_of(title, {"B2", ...})``: the
    saved values of those cells (read in one pass)."""
    parts = WorkbookParts()
    names = zf.namelist()
    for title, path in sheets:
        hf, formulas = _scan_sheet(zf, path.lstrip("/"))
        for kind, text in hf:
            builder.add(_HF_CODE.sub(" ", text).strip(), f"{title} {kind}")
        refs = {m.group(1) + m.group(2) for _, f in formulas for m in _REF.finditer(f)}
        values = values_of(title, refs) if refs else {}
        for ref, formula in formulas:
            value = evaluate(formula, values.get)
            if value is None:
                parts.formulas_not_read += 1
            else:
                builder.add(value, f"{title}!{ref}")
    for name in names:
        if re.fullmatch(r"xl/(?:[^/]+/)?comments?\d*\.xml", name):
            raw = zf.read(name)
            for ref, body in _COMMENT.findall(raw):
                text = "".join(_unescape(t) for t in _TEXT.findall(body))
                builder.add(text, f"comment {ref.decode()}")
        elif re.fullmatch(r"xl/drawings/drawing\d*\.xml", name):
            text = "\n".join(_unescape(t) for t in _A_T.findall(zf.read(name)))
            builder.add(text, "shape text")
    if parts.formulas_not_read:
        parts.notes.append(f"{parts.formulas_not_read} formula cells saved without a value "
                           "were not read")
    return parts


def _unescape(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))


def _scan_sheet(zf: zipfile.ZipFile, path: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Headers/footers and uncached formulas of one sheet, streamed (a sheet can be large)."""
    hf: list[tuple[str, str]] = []
    formulas: list[tuple[str, str]] = []
    try:
        stream = zf.open(path)
    except KeyError:
        return hf, formulas
    tail = b""
    with stream:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            buf = tail + chunk
            cut = buf.rfind(b"</c>")
            done, tail = (buf[:cut + 4], buf[cut + 4:]) if cut >= 0 else (b"", buf)
            if len(formulas) < MAX_FORMULAS and b"<f" in done:
                formulas += [(r.decode(), _unescape(f)) for r, f in _UNCACHED.findall(done)]
            if len(tail) > 4 * CHUNK:  # no cell ends in it: keep only what may still match
                tail = tail[-CHUNK:]
    hf = [(k.decode(), _unescape(v)) for k, v in _HEADER_FOOTER.findall(tail)]
    return hf, formulas[:MAX_FORMULAS]


def evaluate(formula: str, value_of: Callable[[str], object]) -> str | None:
    """The text of a string formula made of literals and same-sheet cells joined by ``&``
    or CONCATENATE/CONCAT, else None (not worked out)."""
    f = formula.strip().lstrip("=").strip()
    m = re.fullmatch(r"(?i)(?:_xlfn\.)?(?:CONCATENATE|CONCAT)\((.*)\)", f)
    pieces = _split(m.group(1), ",") if m else _split(f, "&")
    if pieces is None:
        return None
    out = []
    for piece in pieces:
        piece = piece.strip()
        if len(piece) >= 2 and piece[0] == piece[-1] == '"':
            out.append(piece[1:-1].replace('""', '"'))
            continue
        ref = _REF.fullmatch(piece)
        if not ref:
            return None
        value = value_of(ref.group(1) + ref.group(2))
        out.append("" if value is None else str(value))
    return "".join(out)


def _split(expr: str, sep: str) -> list[str] | None:
    pieces: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in expr:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            pieces.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if quoted:
        return None
    pieces.append("".join(cur))
    return pieces
