"""Small SVG drawing helpers shared by the drill timeline and the load report.

Drawn by hand: a few polylines need no plotting library, and inline SVG keeps each HTML report a
single file with no scripts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

__all__ = ["panel", "nice_step", "time_axis"]

Series = list[tuple[float, float]]


def nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def panel(y0: float, h: float, left: float, right: float, title: str, series: list[tuple[Series, str]],
          x: Callable[[float], float], log: bool = False) -> list[str]:
    """A titled plot area with one polyline per series (linear, or log10 from 1)."""
    vals = [v for s, _ in series for _, v in s]
    top = max(vals, default=1.0) or 1.0
    lo = 1.0
    out = [f'<text x="{left}" y="{y0 - 6}" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{left}" y="{y0}" width="{right - left}" height="{h}" fill="#fafafa" stroke="#ddd"/>',
           f'<text x="{left - 8}" y="{y0 + 10}" text-anchor="end">{top:,.0f}</text>',
           f'<text x="{left - 8}" y="{y0 + h}" text-anchor="end">{lo if log else 0:g}</text>']

    def y(v: float) -> float:
        if log:
            span = math.log10(max(top, lo * 10)) - math.log10(lo)
            return y0 + h - (math.log10(max(v, lo)) - math.log10(lo)) / span * h
        return y0 + h - v / top * h

    for points, colour in series:
        if points:
            pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
            out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
    return out


def time_axis(tmin: float, tmax: float, y: float, left: float, right: float, x: Callable[[float], float]) -> list[str]:
    out = [f'<line x1="{left}" x2="{right}" y1="{y - 4}" y2="{y - 4}" stroke="#333"/>']
    step = nice_step((tmax - tmin) / 10)
    t = math.ceil(tmin / step) * step
    while t <= tmax:
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y - 4}" y2="{y}" stroke="#333"/>')
        out.append(f'<text x="{x(t):.1f}" y="{y + 14}" text-anchor="middle">{t:g} s</text>')
        t += step
    return out
