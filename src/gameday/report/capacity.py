"""Capacity reports: summary.json, stairs.csv (one row per stair) and report.html, whose inline SVG plots the
throughput achieved and p50/p95/p99 against the offered rate, one point per stair, the knee marked."""

from __future__ import annotations

import csv
import io
import json
import math
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from gameday.report.svg import nice_step

__all__ = ["write_capacity_reports", "capacity_svg", "stairs_csv", "CSV_COLUMNS"]

W, H, LEFT, RIGHT, TOP = 900, 300, 80, 30, 40
CSV_COLUMNS = ["stair", "offered_rate", "served_rate", "achieved_rate", "p50_ms", "p95_ms", "p99_ms", "max_ms", "error_ratio",
               "late_ratio", "verdict"]
_VERDICT = {"pass": "#2ca02c", "fail": "#d62728", "inconclusive": "#ff7f0e", "aborted": "#777777"}
_LATENCY = [("p50_ms", "#2ca02c", "p50"), ("p95_ms", "#1f77b4", "p95"), ("p99_ms", "#9467bd", "p99")]


def stairs_csv(s: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in s["stairs"]:
        w.writerow({k: "" if row.get(k) is None else row[k] for k in CSV_COLUMNS})
    return buf.getvalue()


def _axis_x(xmax: float, y: float, x: Any) -> list[str]:
    out = [f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y}" y2="{y}" stroke="#333"/>']
    step = nice_step(xmax / 8)
    v = 0.0
    while v <= xmax + 1e-9:
        out.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{y}" y2="{y + 4}" stroke="#333"/>')
        out.append(f'<text x="{x(v):.1f}" y="{y + 16}" text-anchor="middle">{v:,.0f}</text>')
        v += step
    return out + [f'<text x="{(LEFT + W - RIGHT) / 2}" y="{y + 32}" text-anchor="middle">offered rate, events/s '
                  '(one point per stair)</text>']


def _points(rows: list[dict[str, Any]], key: str, colour: str, x: Any, y: Any, label: str) -> list[str]:
    pts = sorted((r["offered_rate"], r[key], r["verdict"]) for r in rows if r.get(key) is not None)
    if not pts:
        return []
    out = [f'<polyline points="{" ".join(f"{x(a):.1f},{y(b):.1f}" for a, b, _ in pts)}" fill="none" '
           f'stroke="{colour}" stroke-width="1.5"/>']
    for a, b, v in pts:
        out.append(f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="4.5" fill="{_VERDICT.get(v, "#777")}" '
                   f'stroke="{colour}" stroke-width="2"><title>{escape(label)} at {a:g}/s: {b:g} ({v})</title></circle>')
    return out


def _knee_line(s: dict[str, Any], x: Any, y0: float, h: float) -> list[str]:
    out = []
    if s.get("capacity_rate"):
        k = x(s["capacity_rate"])
        out += [f'<line x1="{k:.1f}" x2="{k:.1f}" y1="{y0}" y2="{y0 + h}" stroke="#d62728" stroke-dasharray="6,4" '
                'stroke-width="2"/>',
                f'<text x="{k + 6:.1f}" y="{y0 + 14}" fill="#d62728" font-weight="bold">knee {s["capacity_rate"]:,.0f}'
                '/s</text>']
    if s.get("first_failing"):
        f = x(s["first_failing"])
        out.append(f'<line x1="{f:.1f}" x2="{f:.1f}" y1="{y0}" y2="{y0 + h}" stroke="#d62728" stroke-opacity="0.35"/>')
    return out


def _throughput(s: dict[str, Any], rows: list[dict[str, Any]], x: Any, xmax: float, y0: float) -> list[str]:
    top = max([xmax] + [r.get("served_rate") or 0 for r in rows])
    y = lambda v: y0 + H - v / top * H  # noqa: E731
    out = [f'<text x="{LEFT}" y="{y0 - 8}" font-weight="bold">throughput achieved vs offered, events/s '
           'acknowledged during each stair (dashed grey: achieved = offered)</text>',
           f'<rect x="{LEFT}" y="{y0}" width="{W - LEFT - RIGHT}" height="{H}" fill="#fafafa" stroke="#ddd"/>',
           f'<line x1="{x(0):.1f}" y1="{y(0):.1f}" x2="{x(xmax):.1f}" y2="{y(xmax):.1f}" stroke="#aaa" '
           'stroke-dasharray="4,4"/>',
           f'<text x="{LEFT - 8}" y="{y0 + 10}" text-anchor="end">{top:,.0f}</text>',
           f'<text x="{LEFT - 8}" y="{y0 + H}" text-anchor="end">0</text>']
    return out + _points(rows, "served_rate", "#1f77b4", x, y, "achieved") + _knee_line(s, x, y0, H)


def _latency(s: dict[str, Any], rows: list[dict[str, Any]], x: Any, y0: float) -> list[str]:
    vals = [r[k] for r in rows for k, _, _ in _LATENCY if r.get(k)]
    hi = 10 ** math.ceil(math.log10(max(vals + [10.0])))
    lo = 10 ** math.floor(math.log10(max(min(vals + [hi]), 0.1)))
    y = lambda v: y0 + H - (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * H  # noqa
    out = [f'<text x="{LEFT}" y="{y0 - 8}" font-weight="bold">latency from intended send vs offered, ms (log): '
           'p50, p95, p99; dashed: the latency SLOs</text>',
           f'<rect x="{LEFT}" y="{y0}" width="{W - LEFT - RIGHT}" height="{H}" fill="#fafafa" stroke="#ddd"/>']
    d = lo
    while d <= hi * 1.001:
        out.append(f'<text x="{LEFT - 8}" y="{y(d) + 4:.1f}" text-anchor="end">{d:g}</text>')
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(d):.1f}" y2="{y(d):.1f}" stroke="#eee"/>')
        d *= 10
    for slo in s.get("slo_lines", []):
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(slo[1]):.1f}" y2="{y(slo[1]):.1f}" stroke="#d62728" '
                   'stroke-dasharray="3,3"/>')
        out.append(f'<text x="{W - RIGHT - 4}" y="{y(slo[1]) - 4:.1f}" text-anchor="end" fill="#d62728">'
                   f'{escape(slo[0])}</text>')
    for k, (key, colour, label) in enumerate(_LATENCY):
        out += _points(rows, key, colour, x, y, label)
        out.append(f'<text x="{LEFT + 10 + 50 * k}" y="{y0 + 16}" fill="{colour}" font-weight="bold">{label}</text>')
    return out + _knee_line(s, x, y0, H)


def capacity_svg(s: dict[str, Any]) -> str:
    rows = [r for r in s["stairs"] if r.get("offered_rate")]
    xmax = max([r["offered_rate"] for r in rows] + [1.0]) * 1.1
    x = lambda v: LEFT + v / xmax * (W - LEFT - RIGHT)  # noqa: E731
    height = 2 * H + 3 * TOP + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" font-family="sans-serif" '
           'font-size="12">', '<rect width="100%" height="100%" fill="white"/>']
    out += _throughput(s, rows, x, xmax, TOP)
    out += _latency(s, rows, x, 2 * TOP + H + 10)
    out += _axis_x(xmax, 2 * TOP + 2 * H + 10, x)
    return "\n".join(out + ["</svg>"])


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Capacity: {{ s.verdict }}</title>
<style>body{font-family:sans-serif;margin:24px} td,th{border:1px solid #ccc;padding:4px 10px} table{border-collapse:collapse}
.v{padding:4px 12px;color:#fff;border-radius:4px} .pass{background:#2ca02c} .fail{background:#d62728} .inconclusive{background:#ff7f0e} .aborted{background:#777}</style>
</head><body><h1>Capacity <span class="v {{ s.verdict }}">{{ s.verdict | upper }}</span>
{% if s.capacity_rate %} knee {{ "{:,.0f}".format(s.capacity_rate) }} events/s{% endif %}</h1>
<p>{{ s.profile }} against {{ s.host }}: stairs of {{ s.stair_s }} s from {{ s.start_rate }} up to at most {{ s.max_rate }}
events/s, batch {{ s.batch }}, {{ s.workers }} generator process(es), each stair judged as a gate on
{% for x in s.slos %}{{ x.expr }}{{ " (default)" if x.default }}{{ ", " if not loop.last }}{% endfor %}.</p>
<ul>{% for r in s.reasons %}<li>{{ r }}</li>{% endfor %}</ul>
{% if s.projection %}<p><b>Linear projection:</b> {{ s.projection.text }}</p>{% endif %}
{{ svg }}
<h2>Stairs</h2><p>The data: summary.json (stairs) and stairs.csv; each stair's own gate report under stairs/.</p>
<table><tr><th>stair</th><th>offered/s</th><th>achieved during the stair/s</th><th>achieved, gate (answers in the drain too)/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>errors</th><th>verdict</th><th>why</th></tr>
{% for r in s.stairs %}<tr><td>{{ r.stair }}</td><td>{{ r.offered_rate }}</td><td>{{ r.served_rate }}</td><td>{{ r.achieved_rate }}</td><td>{{ r.p50_ms }}</td>
<td>{{ r.p95_ms }}</td><td>{{ r.p99_ms }}</td><td>{{ r.error_ratio }}</td><td>{{ r.verdict }}</td><td>{{ r.reasons | join("; ") }}</td></tr>{% endfor %}</table>
</body></html>
"""


def write_capacity_reports(summary: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    (out_dir / "stairs.csv").write_text(stairs_csv(summary))
    html = Environment(autoescape=True).from_string(_PAGE).render(s=summary, svg=Markup(capacity_svg(summary)))
    (out_dir / "report.html").write_text(html)
