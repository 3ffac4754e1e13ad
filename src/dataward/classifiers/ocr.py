"""Text recognition of one page image with Tesseract, in memory.

Why the ``tesseract`` program on stdin and stdout rather than pytesseract: pytesseract
saves each image to a temporary file and has Tesseract write its text to another one, so
the recognised text of a medical letter would sit on disk, however briefly. Here the
page goes to ``tesseract - - tsv`` as an uncompressed PGM on stdin and the words come
back on stdout; Tesseract opens no file for writing (checked with strace). It still runs
in a private (0700) empty folder, given as its working folder and TMPDIR, so that a
future Tesseract that did write something would write it there, never in a shared /tmp.
Running the program also gives a hard time limit per page (the process is killed) and
ties its life to the worker's (PR_SET_PDEATHSIG: a worker killed for overrunning an item
takes its Tesseract with it).

A page is made easy to read first (``ocr_image``: the sheet of a phone photo made flat,
even light, form rules whitened, hairline strokes bolder, blank margins cut off), then
read once with ``--psm 3`` (~1 s for an A4 page at 300 dpi), the likelier way up: lines
of ink down the page mean it is on its side, and ink above and below the lines says
which side (or whether a page with lines across is upside down). Only when that reading
gives few or doubtful words is the other way read too; the most confident reading is
kept. Tesseract's own orientation detection (``--psm 0`` with the ``osd`` data) was tried
and dropped: it costs a reading of its own and told a rendered letter upside down to
turn by 90 degrees (with its top confidence). Tesseract straightens skew of a few
degrees by itself. The words are put in rows by their position on the page, so a form's
label and value ("Date of birth: 14/03/2015") stay together.

Context words in recognised text are repaired before the recognizers see them: a token
that differs from a cue word (``NHS``, ``DOB``, ``passport``...) only by characters OCR
confuses (``NUS``, ``D0B``, ``passp0rt``) is read as that cue. Values are never repaired:
checksums stay as strict as for typed text: an identifier is mended (a space inside it,
``O`` for ``0``) only when its check digit then passes (``ocr_values``).
"""
from __future__ import annotations

import ctypes
import functools
import io
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from PIL import Image

from . import ocr_image, ocr_values

# Pages are sent at about this many pixels on the long side (an A4 page at ~300 dpi).
TARGET_LONG_SIDE = 3300
MAX_UPSCALE = 2.0
# Smaller pages are enlarged (a 150 dpi A4 scan, 1,754 pixels, is read as it is: enlarging
# it made Tesseract slower and no better in bench/ocr_bench.py).
UPSCALE_BELOW = 1600
MAX_LONG_SIDE = 4400
# A first reading below this mean word confidence (0..100) is tried again with OSD.
RETRY_BELOW_CONF = 60.0
RETRY_BELOW_WORDS = 4
# A page's long side in inches, for its resolution when the image does not say (A4).
A4_LONG_INCHES = 11.69


class TesseractFailed(Exception):
    """Tesseract could not read a page (it crashed or refused the image)."""


@dataclass(frozen=True)
class Engine:
    cmd: str
    language: str


@dataclass
class PageText:
    """One page's recognised text and, for each word, (start, end, confidence 0..1)."""

    text: str = ""
    words: list[tuple[int, int, float]] = field(default_factory=list)
    rotated: bool = False

    @property
    def confidence(self) -> float:
        return sum(c for _s, _e, c in self.words) / len(self.words) if self.words else 0.0


@functools.lru_cache(maxsize=8)
def find_engine(cmd: str, language: str) -> Engine | str:
    """The Tesseract to use, or why there is none (a sentence for the item's note)."""
    try:
        out = subprocess.run([cmd, "--list-langs"], capture_output=True, timeout=30,
                             check=False, env=_env(None))
    except (OSError, subprocess.SubprocessError):
        return "Tesseract is not installed"
    langs = set(out.stdout.decode("utf-8", "replace").split()[1:]) if out.returncode == 0 else set()
    if language not in langs:
        return f"Tesseract has no '{language}' language data"
    return Engine(cmd, language)


def _env(tmp: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "TESSDATA_PREFIX", "LANG", "HOME")}
    env["OMP_THREAD_LIMIT"] = "1"  # one core per scan worker
    if tmp:
        env["TMPDIR"] = tmp
    return env


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        ctypes.CDLL("libc.so.6").prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def prepare(img: Image.Image, dpi: tuple[float, float] | None = None) -> Image.Image:
    """Greyscale, square pixels (a fine fax is 204 x 196 dpi), the sheet of a photo made
    flat, about 300 dpi, even light, blank margins cut off, form rules whitened, strokes
    of a fine page one pixel bolder (``ocr_image``)."""
    grey = img.convert("L")
    w, h = grey.size
    x_dpi, y_dpi = (float(dpi[0] or 0), float(dpi[1] or 0)) if dpi else (0.0, 0.0)
    if x_dpi > 0 and y_dpi > 0 and abs(x_dpi - y_dpi) > 1:
        h = int(h * x_dpi / y_dpi)
        grey = grey.resize((w, h), Image.Resampling.BILINEAR)
    grey = ocr_image.unwarp(grey)
    w, h = grey.size
    long_side = max(w, h)
    scale = min(MAX_UPSCALE, TARGET_LONG_SIDE / long_side) if long_side < UPSCALE_BELOW else 1.0
    if long_side * scale > MAX_LONG_SIDE:
        scale = MAX_LONG_SIDE / long_side
    if abs(scale - 1.0) > 0.05:
        grey = grey.resize((max(1, int(w * scale)), max(1, int(h * scale))),
                           Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
    grey = ocr_image.flatten(grey)
    ppi = max(grey.size) / A4_LONG_INCHES
    return ocr_image.bolder(ocr_image.without_rules(ocr_image.trimmed(grey, ppi), ppi), ppi)


def _tesseract(engine: Engine, pgm: bytes, psm: int, timeout_s: float, tsv: bool = True) -> str:
    args = [engine.cmd, "-", "-", "-l", engine.language, "--psm", str(psm)] + (["tsv"] if tsv else [])
    with tempfile.TemporaryDirectory(prefix="dataward-ocr-") as tmp:  # mode 0700
        try:
            proc = subprocess.run(args, input=pgm, capture_output=True, timeout=timeout_s,
                                  cwd=tmp, env=_env(tmp), preexec_fn=_die_with_parent, check=False)
        except OSError as exc:
            raise TesseractFailed(f"cannot run Tesseract ({exc.strerror})") from None
    if proc.returncode != 0 and psm != 0:
        raise TesseractFailed(f"Tesseract failed on a page (exit code {proc.returncode})")
    return proc.stdout.decode("utf-8", "replace")


def _pgm(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PPM")  # greyscale: PGM (P5), read by Tesseract from stdin
    return buf.getvalue()


def _run(engine: Engine, pgm: bytes, psm: int, timeout_s: float) -> PageText:
    return parse_tsv(_tesseract(engine, pgm, psm, timeout_s))


@dataclass
class _Line:
    """One line as Tesseract found it: its box and its words (left, order, word, conf)."""
    left: int
    top: int
    bottom: int
    right: int
    words: list[tuple[int, int, str, float]] = field(default_factory=list)


@dataclass
class _Row:
    """Lines side by side on the page; ``reach``: how low a line's middle may be to join."""
    top: float
    reach: float
    lines: list[_Line]


def parse_tsv(tsv: str) -> PageText:
    """Tesseract's TSV as text, one visual row a line; each word's span and confidence kept.

    Tesseract orders text by the blocks it finds; on a form it reads the column of labels,
    then the column of values, which parts "Date of birth:" from its date. Lines are put
    back in reading order by their position on the page instead: lines whose vertical
    middles fall within each other's height make one row, read left to right."""
    lines: dict[tuple[str, ...], _Line] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        try:
            left, top, width, height = (int(c) for c in cols[6:10])
            conf = max(0.0, min(100.0, float(cols[10]))) / 100
        except ValueError:
            continue
        line = lines.setdefault((cols[1], cols[2], cols[3], cols[4]),
                                _Line(left, top, top + height, left + width))
        line.left, line.top = min(line.left, left), min(line.top, top)
        line.bottom, line.right = max(line.bottom, top + height), max(line.right, left + width)
        line.words.append((left, len(line.words), repair_cue(cols[11].strip()), conf))
    rows: list[_Row] = []
    for line in sorted(lines.values(), key=lambda ln: (ln.top + ln.bottom) / 2):
        middle = (line.top + line.bottom) / 2
        # Side by side only: lines that overlap across are one above the other (a skewed
        # page's lines overlap in height too). A middle anywhere within the row's height
        # joins: on a form scanned askew, the value at the right sits a third of a line
        # higher than its label.
        if (rows and rows[-1].top <= middle <= rows[-1].reach
                and all(line.left >= o.right or line.right <= o.left for o in rows[-1].lines)):
            rows[-1].lines.append(line)
            rows[-1].reach = max(rows[-1].reach, line.bottom)
        else:
            rows.append(_Row(line.top, line.bottom, [line]))
    parts: list[str] = []
    words: list[tuple[int, int, float]] = []
    pos = 0
    for r in rows:
        row_words = [w for ln in sorted(r.lines, key=lambda ln: ln.left) for w in sorted(ln.words)]
        for i, (_left, _n, word, conf) in enumerate(row_words):
            if i:
                parts.append(" ")
                pos += 1
            words.append((pos, pos + len(word), conf))
            parts.append(word)
            pos += len(word)
        parts.append("\n")
        pos += 1
    return PageText(ocr_values.repair_values("".join(parts)), words)


def recognise(img: Image.Image, engine: Engine, timeout_s: float,
              dpi: tuple[float, float] | None = None) -> PageText:
    """One page image's text. Raises ``subprocess.TimeoutExpired`` past ``timeout_s``
    (for all readings together) and ``TesseractFailed``."""
    from .doclike import lines_run_down
    started = time.monotonic()
    page = prepare(img, dpi)
    # Lines across: upright or upside down; lines down: on its left or right side. The
    # likelier way up is read first (ink above and below the lines says which), the other
    # only when that reading is poor.
    if lines_run_down(page):
        turns = (270, 90) if ocr_image.upside_down(page.rotate(-90, expand=True)) else (90, 270)
    else:
        turns = (180, 0) if ocr_image.upside_down(page) else (0, 180)
    best: PageText | None = None
    for turn in turns:
        left = timeout_s - (time.monotonic() - started)
        if best is not None and (_good(best) or left <= 1):
            break
        turned = page.rotate(-turn, expand=True, fillcolor=255) if turn else page
        other = _run(engine, _pgm(turned), 3, left)
        other.rotated = bool(turn)
        if best is None or other.confidence * len(other.words) > best.confidence * len(best.words):
            best = other
    assert best is not None
    return best


def _good(page: PageText) -> bool:
    return page.confidence * 100 >= RETRY_BELOW_CONF and len(page.words) >= RETRY_BELOW_WORDS


# ---- context words that survive OCR noise -------------------------------------------
_CONFUSABLE = {
    "o": "o0qd", "d": "do0", "b": "b8", "h": "hu", "n": "nhu", "u": "uvhn", "s": "s5$",
    "i": "il1|!", "l": "li1|!", "e": "ec", "c": "ce", "g": "g69", "t": "tf", "a": "ao",
    "r": "rn", "p": "p", "m": "m", "v": "vu", "y": "y", "f": "ft", "w": "w",
}
CUE_WORDS = ("nhs", "upn", "uln", "dob", "born", "birth", "passport", "postcode", "insurance",
             "national", "nino", "learner", "pupil", "telephone", "phone", "mobile", "tel")


def _cue_pattern(word: str) -> str:
    return "".join("[" + re.escape(_CONFUSABLE.get(ch, ch)) + "]" for ch in word)


_CUES = {w: re.compile(_cue_pattern(w) + r"([:.,;]?)", re.IGNORECASE) for w in CUE_WORDS}
_CUE_ANY = re.compile("|".join(f"(?:{_cue_pattern(w)})" for w in CUE_WORDS), re.IGNORECASE)


def repair_cue(token: str) -> str:
    """``NUS`` -> ``NHS``, ``D0B:`` -> ``DOB:``; any other token unchanged (same length)."""
    if len(token) < 3 or not _CUE_ANY.match(token):
        return token
    for word, rx in _CUES.items():
        m = rx.fullmatch(token)
        if m:
            seen = token[: len(word)]
            if seen.lower() == word:
                return token
            core = word.upper() if seen.isupper() else word.capitalize() if seen[0].isupper() else word
            return core + m.group(1)
    return token
