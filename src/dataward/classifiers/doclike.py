"""Does an image look like a document (a scanned or photographed page) or like a photo of
people and places? Decided cheaply, before any text recognition, from a greyscale copy
at most ``SIDE`` pixels on its long side (a few milliseconds):

1. **Shape**: a page is not a panorama: the long side is at most ``MAX_ASPECT`` times the
   short one.
2. **Paper**: most of the picture is one bright, colourless background. The paper level is
   the 90th percentile of brightness; at least ``MIN_PAPER`` of the pixels lie within
   ``PAPER_BAND`` of it, and at least ``MIN_GREY`` of those are unsaturated (a bright sky,
   a white shirt in the sun and skin are colour; paper under warm light is barely so).
3. **Lines of text**: on the sheet (the box holding the paper-coloured pixels, so a desk
   around a photographed page is left out), ink (pixels well below the paper level)
   forms horizontal bands. The sheet is cut into vertical strips (so a page skewed by a few degrees still gives clean
   bands in each strip); each strip's row profile of ink is split into runs of inked rows
   and gaps. A strip with at least ``MIN_LINES`` thin runs (each under ``MAX_LINE_HEIGHT``
   of the height) has lines of text. The same is done on columns, for a page turned by 90
   degrees. Ink must cover between ``MIN_INK`` and ``MAX_INK`` of the picture.

All three must hold. A photo of children in a playground fails on paper (colour, no one
background) and on lines; a portrait against a white wall fails on lines.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

SIDE = 512
MAX_ASPECT = 2.6
MIN_PAPER = 0.45
PAPER_BAND = 0.18
MIN_PAPER_LEVEL = 110
MIN_GREY = 0.70
GREY_SATURATION = 60  # of 255 (HSV S channel)
INK_BELOW = 0.62      # ink: darker than this fraction of the paper level
MIN_INK, MAX_INK = 0.002, 0.35
STRIPS = 6
MIN_LINES = 3
MAX_LINE_HEIGHT = 0.08


@dataclass(frozen=True)
class Likeness:
    document: bool
    reason: str
    aspect: float = 0.0
    paper: float = 0.0
    grey: float = 0.0
    ink: float = 0.0
    lines: int = 0


def _runs(profile: np.ndarray, threshold: float) -> list[int]:
    """Heights of the runs of consecutive entries above ``threshold``."""
    on = np.concatenate(([False], profile > threshold, [False]))
    edges = np.flatnonzero(on[1:] != on[:-1])
    return list(edges[1::2] - edges[::2])


def _line_count(ink: np.ndarray) -> int:
    """Most text-line-like runs found in any vertical strip of the ink mask."""
    h, w = ink.shape
    best = 0
    step = max(1, w // STRIPS)
    for x in range(0, w - step + 1, step):
        profile = ink[:, x:x + step].mean(axis=1)
        runs = [r for r in _runs(profile, 0.02) if r <= MAX_LINE_HEIGHT * h]
        best = max(best, len(runs))
    return best


def _sheet(grey: np.ndarray, level: float, on_paper: np.ndarray | None = None) -> np.ndarray:
    """The sheet: the box holding the paper-coloured pixels (a photographed page has a
    desk around it)."""
    if on_paper is None:
        on_paper = np.abs(grey - level) <= PAPER_BAND * level
    ys, xs = np.nonzero(on_paper)
    if not len(ys):
        return grey
    y0, y1 = np.percentile(ys, [1, 99]).astype(int)
    x0, x1 = np.percentile(xs, [1, 99]).astype(int)
    # a little inside the box, so the sheet's own edge is not taken for a line
    dy, dx = (y1 - y0) // 50, (x1 - x0) // 50
    return grey[y0 + dy:y1 - dy + 1, x0 + dx:x1 - dx + 1]


def small_copy(img: Image.Image) -> Image.Image:
    """An RGB copy at most SIDE pixels on its long side. A JPEG that was not decoded yet is
    decoded at a reduced scale (so a huge photo is never decoded whole): ``img`` itself is
    then reduced, so pass one that is not needed at full size afterwards."""
    if img.format == "JPEG":  # a JPEG not yet decoded is decoded at 1/2, 1/4 or 1/8 scale
        img.draft("RGB", (SIDE * 2, SIDE * 2))
    copy = img.copy() if img.mode in ("1", "L", "RGB") else img.convert("RGB")
    copy.thumbnail((SIDE, SIDE), reducing_gap=2.0)
    return copy.convert("RGB")


def assess(img: Image.Image) -> Likeness:
    w, h = img.size
    if not w or not h:
        return Likeness(False, "empty image")
    aspect = max(w, h) / min(w, h)
    if aspect > MAX_ASPECT:
        return Likeness(False, "not page-shaped", aspect)
    rgb = small_copy(img)
    grey = np.asarray(rgb.convert("L"), dtype=np.float32)
    sat = np.asarray(rgb.convert("HSV"), dtype=np.uint8)[:, :, 1]
    level = float(np.percentile(grey, 90))
    on_paper = np.abs(grey - level) <= PAPER_BAND * level
    paper = float(on_paper.mean())
    unsaturated = float((sat[on_paper] < GREY_SATURATION).mean()) if paper else 0.0
    if level < MIN_PAPER_LEVEL or paper < MIN_PAPER or unsaturated < MIN_GREY:
        return Likeness(False, "no paper background", aspect, paper, unsaturated)
    ink = _sheet(grey, level, on_paper) < INK_BELOW * level
    ink_share = float(ink.mean()) if ink.size else 0.0
    if not MIN_INK <= ink_share <= MAX_INK:
        return Likeness(False, "no ink" if ink_share < MIN_INK else "too much ink",
                        aspect, paper, unsaturated, ink_share)
    lines = max(_line_count(ink), _line_count(ink.T))
    if lines < MIN_LINES:
        return Likeness(False, "no lines of text", aspect, paper, unsaturated, ink_share, lines)
    return Likeness(True, "document", aspect, paper, unsaturated, ink_share, lines)


def lines_run_down(img: Image.Image) -> bool:
    """True when the text lines run up and down the image (a page on its side): the ink
    profile across lines alternates (line, gap, line), the one along them is even. Both
    are taken in strips, so a skewed page still shows its lines."""
    grey = np.asarray(small_copy(img).convert("L"), dtype=np.float32)
    level = float(np.percentile(grey, 90))
    ink = (_sheet(grey, level) < INK_BELOW * level).astype(np.float32)

    def contrast(mask: np.ndarray) -> float:
        step = max(1, mask.shape[1] // STRIPS)
        return float(np.mean([mask[:, x:x + step].mean(axis=1).std()
                              for x in range(0, mask.shape[1] - step + 1, step)]))
    return contrast(ink.T) > contrast(ink)
