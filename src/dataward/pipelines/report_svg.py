"""Two small charts drawn as inline SVG, so the report needs no script library, font or
image file: a horizontal bar chart of items with personal data by area, and a line of
exposed items across recent scans. Labels are escaped; sizes are fixed in the viewBox so
the page scales them."""
from __future__ import annotations

from html import escape

from .report_data import AreaLine, TrendPoint


def counted(n: int, word: str) -> str:
    """``1 item``, ``2 items``, ``1 more item``, ``3 more items``."""
    n = int(n)
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"

BAR_COLOUR, HIGH_COLOUR, LINE2_COLOUR = "#2f6db5", "#c0392b", "#c0392b"


def _nice_max(v: int) -> int:
    if v <= 5:
        return 5
    for step in (1, 2, 5):
        mag: int = 10 ** (len(str(v)) - 1)
        top = step * mag
        if top >= v:
            return top
    last: int = 10 ** len(str(v))
    return last


def bar_chart(areas: list[AreaLine], limit: int = 12) -> str:
    """Items with personal data per area (blue), high or critical risk among them (red)."""
    rows = [a for a in areas if a.with_data][:limit]
    if not rows:
        return '<p class="muted">No items with personal data.</p>'
    label_w, bar_w, row_h = 230, 420, 26
    top = _nice_max(max(a.with_data for a in rows))
    h = row_h * len(rows) + 34
    parts = [f'<svg class="chart" role="img" aria-label="Items with personal data by area" '
             f'viewBox="0 0 {label_w + bar_w + 70} {h}" xmlns="http://www.w3.org/2000/svg">']
    for i, a in enumerate(rows):
        y = 8 + i * row_h
        w = bar_w * a.with_data / top
        wh = bar_w * a.high / top
        label = f"{a.area} ({a.audience})"
        if len(label) > 34:
            label = label[:33] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" '
                     f'font-size="12">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="18" fill="{BAR_COLOUR}">'
                     f'<title>{escape(a.area)}: {counted(a.with_data, "item")} with personal data'
                     '</title></rect>')
        if a.high:
            parts.append(f'<rect x="{label_w}" y="{y}" width="{wh:.1f}" height="18" '
                         f'fill="{HIGH_COLOUR}"><title>{a.high} high or critical</title></rect>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 14}" font-size="12">'
                     f'{a.with_data}</text>')
    axis_y = 8 + len(rows) * row_h + 4
    parts.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + bar_w}" y2="{axis_y}" '
                 f'stroke="#888"/>')
    for frac in (0, 0.5, 1):
        x = label_w + bar_w * frac
        parts.append(f'<text x="{x:.0f}" y="{axis_y + 16}" font-size="11" text-anchor="middle" '
                     f'fill="#555">{int(top * frac)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_chart(points: list[TrendPoint]) -> str:
    """Items with personal data (blue) and high or critical items (red) per scan."""
    if len(points) < 2:
        return ('<p class="muted">The trend appears after the second scan '
                f'({len(points)} so far).</p>')
    w, h, pad_l, pad_b, pad_t = 640, 200, 50, 36, 12
    top = _nice_max(max(p.with_data for p in points))
    inner_w, inner_h = w - pad_l - 20, h - pad_b - pad_t
    step = inner_w / (len(points) - 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return pad_l + i * step, pad_t + inner_h * (1 - v / top)

    parts = [f'<svg class="chart" role="img" aria-label="Exposed items across recent scans" '
             f'viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg">']
    for frac in (0, 0.5, 1):
        y = pad_t + inner_h * (1 - frac)
        parts.append(f'<line x1="{pad_l}" y1="{y:.1f}" x2="{w - 20}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{pad_l - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#555">{int(top * frac)}</text>')
    for series, colour, name in (("with_data", BAR_COLOUR, "with personal data"),
                                 ("high", LINE2_COLOUR, "high or critical")):
        pts = [(i, getattr(p, series)) for i, p in enumerate(points) if getattr(p, series) is not None]
        if len(pts) < 2:
            continue
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in pts))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in pts:
            x, y = xy(i, v)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(points[i].day)}: {v} {name}</title></circle>')
    for i, p in enumerate(points):
        if len(points) <= 8 or i in (0, len(points) - 1) or i % 3 == 0:
            x, _ = xy(i, 0)
            parts.append(f'<text x="{x:.1f}" y="{h - 12}" font-size="11" text-anchor="middle" '
                         f'fill="#555">{escape(p.day[5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)
