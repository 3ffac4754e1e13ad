"""A page image made easy for Tesseract, before it is read (numpy and Pillow only).

- **The page in a photo** (``unwarp``): a phone photo of a form shows the sheet on a desk,
  in perspective. The sheet is the bright pixels of a small copy; when they fill
  between ``MIN_SHEET`` and ``MAX_SHEET`` of the frame and is four-sided (its corners'
  quadrilateral covers it almost exactly), those corners are mapped back to a rectangle.
  Lines of text are straight again and the desk is gone (fewer pixels to read).
- **Even light** (``flatten``): the paper level is estimated everywhere (the brightest
  pixels of each neighbourhood, blurred) and the page divided by it, so a photo darker on
  one side, or a scan with a grey edge, has white paper and black ink all over. Tesseract's
  global threshold then keeps the ink on the dark side too.
- **Form rules** (``without_rules``): long straight runs of ink, across or down, are
  whitened. A box drawn round a value ("UPN: | G279288511972 |") makes Tesseract read the
  rules as letters, or the box as a picture, and lose the text in it. A run is ink at
  least ``RULE_INCH`` long down the page (twice that across), with ``PLAY`` pixels of play
  either side so that a rule tilted by a few degrees is still one run; letters are never
  that long.
- **Bolder strokes** (``bolder``): on a fine page every stroke gains a pixel; Courier's
  hairlines no longer break under Tesseract's threshold.
- **Which way up** (``upside_down``): in Latin print the capitals and ascenders above the
  x-height band hold more ink than the descenders below it. Each line of text's row
  profile says which side is heavier; more lines heavy below than above is a page upside
  down. It lets a turned page be read once, the right way up, rather than twice.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

SMALL = 400                 # long side of the copy the sheet is looked for on
MIN_SHEET, MAX_SHEET = 0.2, 0.93
QUAD_FILL = 0.93            # the sheet covers this much of its corners' quadrilateral
RULE_INCH = 0.3             # a rule down is at least this long (a letter: under 0.2 inch),
                            # across twice that (a word's letters may touch)
HALVE_ABOVE_PPI = 250       # rules are looked for at half size on pages this fine
RULE_DARK = 140             # ink, on the flattened page (0..255)
PLAY = 2                    # pixels of play across a rule (tilt, thickness)
MARGIN_INCH = 0.2
EVEN_LIGHT = 0.85           # paper darkest / brightest at or above this: evenly lit


def unwarp(grey: Image.Image) -> Image.Image:
    """The sheet of paper in a photo, as a flat rectangle; the image as it is otherwise."""
    w, h = grey.size
    f = SMALL / max(w, h)
    small = np.asarray(grey.resize((max(1, int(w * f)), max(1, int(h * f))), Image.Resampling.BOX)
                       .filter(ImageFilter.MaxFilter(5)), dtype=np.float32)
    level = float(np.percentile(small, 90))
    bright = small > 0.7 * level
    share = float(bright.mean())
    if not MIN_SHEET <= share <= MAX_SHEET or level < 100:
        return grey
    ys, xs = np.nonzero(bright)
    s, d = xs + ys, xs - ys
    quad = [(xs[s.argmin()], ys[s.argmin()]), (xs[d.argmax()], ys[d.argmax()]),
            (xs[s.argmax()], ys[s.argmax()]), (xs[d.argmin()], ys[d.argmin()])]
    if _area(quad) <= 0 or bright.sum() < QUAD_FILL * _area(quad):
        return grey  # not one four-sided sheet (a photo, a torn or folded page)
    quad = [((x + 0.5) / f, (y + 0.5) / f) for x, y in quad]
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad
    out_w = int((np.hypot(x1 - x0, y1 - y0) + np.hypot(x2 - x3, y2 - y3)) / 2)
    out_h = int((np.hypot(x3 - x0, y3 - y0) + np.hypot(x2 - x1, y2 - y1)) / 2)
    if out_w < 16 or out_h < 16:
        return grey
    rect = [(0.0, 0.0), (float(out_w), 0.0), (float(out_w), float(out_h)), (0.0, float(out_h))]
    return grey.transform((out_w, out_h), Image.Transform.PERSPECTIVE,
                          _coefficients(rect, quad), Image.Resampling.BILINEAR, fillcolor=255)


def _area(quad: list[tuple[float, float]]) -> float:
    return 0.5 * sum(quad[i][0] * quad[i - 3][1] - quad[i - 3][0] * quad[i][1] for i in range(4))


def _coefficients(rect: list[tuple[float, float]], quad: list[tuple[float, float]]) -> list[float]:
    """Pillow's PERSPECTIVE coefficients mapping output points ``rect`` to input ``quad``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(rect, quad, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    solved: list[float] = np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float)).tolist()
    return solved


def flatten(grey: Image.Image) -> Image.Image:
    """The page divided by its paper level (estimated per neighbourhood): even light. A
    page already evenly lit (a flatbed scan) is left as it is: it costs nothing then."""
    w, h = grey.size
    cell = max(8, max(w, h) // 96)  # a cell is larger than a letter's stroke
    small = (grey.resize((max(1, w // cell), max(1, h // cell)), Image.Resampling.BOX)
             .filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.GaussianBlur(1.5)))
    levels = np.asarray(small, dtype=np.float32)
    if float(levels.min()) >= EVEN_LIGHT * float(levels.max()):
        return grey
    gain = Image.fromarray(255.0 / np.maximum(levels, 40.0)).resize((w, h), Image.Resampling.BILINEAR)
    a = np.asarray(grey, dtype=np.float32) * np.asarray(gain)
    return Image.fromarray(np.minimum(a, 255).astype(np.uint8))


def _long_runs(ink: np.ndarray, length: int) -> np.ndarray:
    """Pixels covered by a horizontal run of at least ``length`` inked pixels."""
    h, w = ink.shape
    if w <= length:
        return np.zeros_like(ink)
    c = np.zeros((h, w + 1), dtype=np.int32)
    np.cumsum(ink, axis=1, out=c[:, 1:])
    full = np.zeros((h, w), dtype=bool)
    full[:, :w - length + 1] = (c[:, length:] - c[:, :-length]) == length  # [j, j+length) inked
    p = np.zeros((h, w + 1), dtype=np.int32)
    np.cumsum(full, axis=1, out=p[:, 1:])
    lo = np.maximum(0, np.arange(w) - length + 1)
    return (p[:, 1:] - p[:, lo]) > 0                          # a full window ends here or later


def _spread(mask: np.ndarray, axis: int) -> np.ndarray:
    """``mask`` widened by ``PLAY`` pixels either way along ``axis``."""
    out = mask.copy()
    for k in range(1, PLAY + 1):
        out |= np.roll(mask, k, axis=axis) | np.roll(mask, -k, axis=axis)
    return out


def without_rules(grey: Image.Image, px_per_inch: float) -> Image.Image:
    """The page with its long straight rules (across and down) whitened. Rules are found
    on a half-size copy (a pixel there is ink when any of its four is), four times less
    work, and whitened with ``PLAY`` pixels around them (their grey, blurred edges)."""
    a = np.asarray(grey)
    h, w = a.shape
    k = 2 if px_per_inch >= HALVE_ABOVE_PPI else 1  # at 150 dpi, halving would join letters
    h2, w2 = h // k, w // k
    if h2 < 8 or w2 < 8:
        return grey
    ink = np.asarray((a[:h2 * k, :w2 * k] < RULE_DARK).reshape(h2, k, w2, k).any(axis=(1, 3)))
    if not ink.any():
        return grey
    length = max(8, int(RULE_INCH * px_per_inch / k))
    across = _long_runs(_spread(ink, 0), 2 * length)
    down = _long_runs(_spread(ink, 1).T, length).T
    rules = (across | down) & ink
    if not rules.any():
        return grey
    rules = _spread(_spread(rules, 0), 1)
    full = np.zeros((h, w), dtype=bool)
    full[:h2 * k, :w2 * k] = rules.repeat(k, axis=0).repeat(k, axis=1)
    out = a.copy()
    out[full] = 255
    return Image.fromarray(out)


def bolder(grey: Image.Image, px_per_inch: float) -> Image.Image:
    """Strokes one pixel bolder on a fine page. Typewriter faces (Courier on forms) have
    hairline strokes that Tesseract's threshold breaks: ``J`` is read as ``0`` or ``7``,
    ``Z`` as ``2``; one pixel more mends them and costs nothing on other faces at 300 dpi."""
    if px_per_inch < HALVE_ABOVE_PPI or min(grey.size) < 3:
        return grey
    a = np.asarray(grey)
    # A 3 x 3 minimum, as two passes of three (Pillow's MinFilter is a rank filter: 20x slower).
    rows = a.copy()
    np.minimum(rows[1:], a[:-1], out=rows[1:])
    np.minimum(rows[:-1], a[1:], out=rows[:-1])
    out = rows.copy()
    np.minimum(out[:, 1:], rows[:, :-1], out=out[:, 1:])
    np.minimum(out[:, :-1], rows[:, 1:], out=out[:, :-1])
    return Image.fromarray(out)


def trimmed(grey: Image.Image, px_per_inch: float) -> Image.Image:
    """The page cut to its ink and a margin of ``MARGIN_INCH``: Tesseract's layout analysis
    costs by the pixel, and the blank margins of a letter are a third of its page."""
    ink = np.asarray(grey) < RULE_DARK
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return grey
    m = int(MARGIN_INCH * px_per_inch)
    w, h = grey.size
    box = (max(0, cols[0] - m), max(0, rows[0] - m), min(w, cols[-1] + 1 + m), min(h, rows[-1] + 1 + m))
    return grey.crop(box) if box != (0, 0, w, h) else grey


def upside_down(grey: Image.Image) -> bool:
    """Whether the page's lines of text are heavier below their middle band than above
    (descenders outweighing capitals and ascenders: the page is upside down)."""
    a = np.asarray(grey) < RULE_DARK
    profile = a.sum(axis=1).astype(np.float64)
    if profile.max() <= 0:
        return False
    on = np.concatenate(([False], profile > 0.02 * profile.max(), [False]))
    edges = np.flatnonzero(on[1:] != on[:-1])
    above = below = 0
    for top, bottom in zip(edges[::2], edges[1::2], strict=True):
        rows = profile[top:bottom]
        if len(rows) < 8:
            continue
        core = np.flatnonzero(rows >= 0.5 * rows.max())   # the x-height band
        lo, hi = core[0], core[-1]
        ink_above, ink_below = rows[:lo].sum(), rows[hi + 1:].sum()
        if ink_above > 1.2 * ink_below:
            above += 1
        elif ink_below > 1.2 * ink_above:
            below += 1
    return below > above
