"""Which parts of an item are pictures of text, and recognising them within the caps.

- PDF: the pages with (almost) no text layer (fewer letters and digits than
  ``ocr.min_text_chars``, counted by the extractor) and
  ink on them, unless the page looks like a photo (no paper background).
- TIFF faxes (bilevel pages): every page.
- Other images (JPEG, PNG, TIFF, HEIC): only those that look like documents
  (``doclike.assess``); photos of people are never sent to recognition.

The recognised text is appended to the item's text (marked ``page N``) and goes through
the same recognizers; findings in it carry ``via = "ocr"`` and a score multiplied by
Tesseract's confidence in the words under them. Nothing recognised is written anywhere.

Caps: ``ocr.max_pages_per_item``, ``ocr.page_timeout_s``, the item's own time limit and the
scan's budget (``ocr.scan_budget_minutes``, shared by all workers). An item whose picture
text was not all read says so: ``state`` is ``partial`` (some pages read) or ``needed``
(none: Tesseract missing, OCR turned off, budget spent, image too large), and the scan
records the item as ``partial`` with the reason.
"""
from __future__ import annotations

import math
import mmap
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PIL import Image

from . import doclike
from .ocr import Engine, PageText, TesseractFailed, find_engine, recognise

if TYPE_CHECKING:
    from ..settings import Ocr as OcrSettings
    from .engine import Finding
    from .extractors.base import Extracted

PDF_DPI = 300
# A PDF page is looked at for ink at this resolution first (cheap).
PDF_LOOK_DPI = 50
MIN_PAGE_SECONDS = 2.0
CONFIDENCE_FLOOR = 0.5
# What a damaged picture raises while its pixels are decoded.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)
RECOGNISED_FORMATS = frozenset({"pdf", "tiff", "jpeg", "png", "heic"})


class OcrBudget:
    """Seconds of recognition one scan may spend, shared by its forked workers through
    eight bytes of anonymous shared memory (no file, no semaphore: two workers adding at
    the same moment may lose one page's seconds, which a budget can bear)."""

    def __init__(self, minutes: float) -> None:
        self.limit_s = minutes * 60
        self._shared = mmap.mmap(-1, 8)  # MAP_SHARED | MAP_ANONYMOUS: kept across fork

    def left(self) -> float:
        return float("inf") if self.limit_s <= 0 else self.limit_s - self.spent

    def spend(self, seconds: float) -> None:
        self._shared[:8] = struct.pack("d", self.spent + seconds)

    @property
    def spent(self) -> float:
        return float(struct.unpack("d", self._shared[:8])[0])


@dataclass
class OcrOutcome:
    state: str                    # read | partial | needed
    note: str = ""
    start: int = 0                # offset in the item's text where recognised text begins
    words: list[tuple[int, int, float]] = field(default_factory=list)
    pages_read: int = 0
    pages_wanted: int = 0


@dataclass
class _Page:
    label: str
    image: Image.Image | None     # None: not decoded (a page over the cap)
    dpi: tuple[float, float] | None = None


def image_pages(doc: Extracted, min_text_chars: int) -> list[int]:
    """The PDF pages (0-based) with (almost) no text layer."""
    return [i for i, n in enumerate(doc.page_text_chars) if n < min_text_chars]


def _pdf_pages(data: bytes, candidates: list[int], cap: int, max_pixels: float) -> Iterator[_Page | int | str]:
    """The PDF's image-only pages that have ink and are not photos, rendered; then the
    number of candidate pages left unlooked-at past the cap (an int)."""
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(data)
    try:
        taken = 0
        for n, i in enumerate(candidates):
            if taken >= cap:
                yield len(candidates) - n
                return
            try:
                page = pdf[i]
            except pdfium.PdfiumError:
                yield f"page {i + 1} could not be decoded"
                continue
            try:
                look = page.render(scale=PDF_LOOK_DPI / 72, grayscale=True).to_pil()
                verdict = doclike.assess(look)
                if verdict.reason in ("no ink", "no paper background"):
                    continue
                taken += 1
                w, h = page.get_size()  # points; a poster-sized page is rendered smaller
                scale = min(PDF_DPI / 72, math.sqrt(max_pixels / max(1.0, w * h)))
                full = page.render(scale=scale, grayscale=True).to_pil()
            except pdfium.PdfiumError:
                full = None
            finally:
                page.close()
            yield _Page(f"page {i + 1}", full) if full is not None else f"page {i + 1} could not be decoded"
    finally:
        pdf.close()


def _frames(data: bytes, max_pixels: float) -> Iterator[_Page | int | str]:
    """Frames of an image that look like documents (all pages of a fax), decoded; a str for
    a frame that should be read and cannot be (too large, damaged)."""
    from .image_metadata import open_image as _open
    with _open(data) as img:
        frames = getattr(img, "n_frames", 1)
        for k in range(frames):
            label = f"page {k + 1}"
            try:
                if k:
                    img.seek(k)
            except DECODE_ERRORS:
                yield f"{label} could not be decoded"
                return
            w, h = img.size
            if w * h > max_pixels:
                if img.format == "JPEG":  # decoded at 1/2, 1/4 or 1/8 scale, under the cap
                    f = math.sqrt(max_pixels / (w * h)) / 2
                    img.draft("L", (int(w * f) + 1, int(h * f) + 1))
                if img.size[0] * img.size[1] > max_pixels:
                    yield f"image too large to examine for text ({w * h / 1e6:.0f} megapixels)"
                    return
            fax = img.mode == "1"  # bilevel: a fax or a scanner's black-and-white page
            try:
                if img.format == "JPEG":  # judged on a reduced decode of its own
                    with _open(data) as look:
                        document = doclike.assess(look).document
                else:
                    document = fax or doclike.assess(img).document
            except DECODE_ERRORS:
                if fax:
                    yield f"{label} could not be decoded"
                    continue
                return  # damaged pixels, not known to be a page of text (metadata is read)
            if not document:
                if k == 0:
                    return  # a photo: never recognised
                continue
            try:
                copy = img.copy()
            except DECODE_ERRORS:
                yield f"{label} could not be decoded"
                continue
            dpi = img.info.get("dpi")
            yield _Page(label, copy, tuple(dpi) if dpi else None)


def _pages(fmt: str, data: bytes, doc: Extracted, settings: OcrSettings) -> Iterator[_Page | int | str]:
    if fmt == "pdf":
        yield from _pdf_pages(data, image_pages(doc, settings.min_text_chars),
                              settings.max_pages_per_item, settings.max_megapixels * 1e6)
        return
    taken = 0
    for page in _frames(data, settings.max_megapixels * 1e6):
        if isinstance(page, _Page):
            if taken >= settings.max_pages_per_item:
                yield 1
                continue
            taken += 1
        yield page


def recognise_item(fmt: str, data: bytes, doc: Extracted, settings: OcrSettings,
                   budget: OcrBudget, deadline: float) -> OcrOutcome | None:
    """Recognise the picture text of one item into ``doc``; None when it holds none."""
    if fmt not in RECOGNISED_FORMATS or (fmt == "pdf" and not image_pages(doc, settings.min_text_chars)):
        return None
    engine: Engine | str = find_engine(settings.tesseract_cmd, settings.language) \
        if settings.enabled else "text recognition is turned off (ocr.enabled)"
    out = OcrOutcome("read", start=len(doc.text))
    missed: list[str] = []
    for page in _pages(fmt, data, doc, settings):
        if isinstance(page, str):
            out.pages_wanted += 1
            missed.append(page)
            continue
        if isinstance(page, int):
            out.pages_wanted += page
            missed.append(f"{page} page(s) past the cap of {settings.max_pages_per_item}")
            continue
        out.pages_wanted += 1
        if isinstance(engine, str):
            continue
        left = min(settings.page_timeout_s, deadline - time.monotonic(), budget.left())
        if left < MIN_PAGE_SECONDS:
            missed.append("the item's time limit was reached" if budget.left() >= MIN_PAGE_SECONDS
                          else "the scan's text recognition budget was spent")
            continue
        if page.image is None:  # pages come decoded; the image is dropped once read (below)
            continue
        started = time.monotonic()
        try:
            text = recognise(page.image, engine, left, page.dpi)
        except subprocess.TimeoutExpired:
            missed.append(f"{page.label} took longer than {left:.0f} s")
            continue
        except TesseractFailed as exc:
            missed.append(f"{page.label}: {exc}")
            continue
        finally:
            budget.spend(time.monotonic() - started)
            page.image = None
        _append(doc, out, page.label, text)
    if out.pages_wanted == 0:
        return None
    if isinstance(engine, str):
        out.state = "needed"
        out.note = f"text is an image ({out.pages_wanted} page(s)), not recognised: {engine}"
    elif missed:
        out.state = "partial" if out.pages_read else "needed"
        unique = list(dict.fromkeys(missed))
        out.note = (f"text recognised on {out.pages_read} of {out.pages_wanted} image page(s); "
                    + "; ".join(unique[:3]) + (f"; and {len(unique) - 3} more" if len(unique) > 3 else ""))
    return out


def _append(doc: Extracted, out: OcrOutcome, label: str, page: PageText) -> None:
    out.pages_read += 1
    if not page.text:
        return
    base = len(doc.text)
    if doc.text and not doc.text.endswith("\n"):
        doc.text += "\n"
        base += 1
    doc.marks.append((base, label))
    doc.text += page.text
    out.words.extend((s + base, e + base, c) for s, e, c in page.words)


def fold_confidence(findings: list[Finding], out: OcrOutcome) -> list[Finding]:
    """Findings in recognised text: ``via = "ocr"``, and the score scaled by Tesseract's
    mean confidence ``c`` (0..1) in the words under them: ``score x (F + (1 - F) x c)``
    with ``F = CONFIDENCE_FLOOR``. Tesseract is unsure of words outside its dictionary
    (surnames most of all) even when it reads them right, so its confidence lowers a
    score by at most half and never drops a finding."""
    import bisect
    starts = [w[0] for w in out.words]
    folded = []
    for f in findings:
        if f.offset < out.start:
            folded.append(f)
            continue
        end = f.offset + max(1, len(f.preview))
        i = max(0, bisect.bisect_right(starts, f.offset) - 1)
        confs = []
        while i < len(out.words) and out.words[i][0] < end:
            if out.words[i][1] > f.offset:
                confs.append(out.words[i][2])
            i += 1
        conf = sum(confs) / len(confs) if confs else 0.0
        score = f.score * (CONFIDENCE_FLOOR + (1 - CONFIDENCE_FLOOR) * conf)
        folded.append(f._replace(score=round(score, 3), via="ocr"))
    return folded
