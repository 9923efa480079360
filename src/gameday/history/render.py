"""history.md and history.html (self-contained: inline SVG, no script, no network) from the trend groups.

Drawn by hand for the same reason as the drill timeline (``gameday.report.svg``): a few bars and lines
need no plotting library, and one file opens anywhere.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

from gameday.history.collect import Run
from gameday.history.trend import Group

__all__ = ["render_md", "render_html", "row_of", "verdict_text"]

_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _date(t: float | None) -> str:
    return "-" if t is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _sec(v: Any, scale: float = 1.0) -> str:
    if v is None:
        return "-"
    full = v / scale
    if scale == 1:
        return f"{v:.3g} s"
    return f"{v:.3g} s ({full / 60:.1f} min)" if full >= 60 else f"{v:.3g} s ({full:.0f} s)"


def verdict_text(run: Run) -> str:
    """The verdict, and ``(incomplete)`` for a run cut off before its end event (``aborted (incomplete)``)."""
    return f"{run.verdict} (incomplete)" if run.status == "incomplete" else run.verdict


def row_of(run: Run, scale: float) -> dict[str, str]:
    """One run as the table shows it (lab seconds, and target-equivalent time in brackets)."""
    f = run.figures
    if run.kind == "capacity":
        return {"date": _date(run.started_at), "verdict": verdict_text(run),
                "knee": "-" if f.get("capacity_rate") is None else f"{f['capacity_rate']:,.0f}/s",
                "first failing": "-" if f.get("first_failing") is None else f"{f['first_failing']:,.0f}/s"}
    if run.kind in ("gate", "load"):
        return {"date": _date(run.started_at), "verdict": verdict_text(run),
                "achieved": "-" if f.get("achieved_rate") is None else f"{f['achieved_rate']:,.0f}/s",
                "p95": "-" if f.get("p95_ms") is None else f"{f['p95_ms']:.1f} ms",
                "p99": "-" if f.get("p99_ms") is None else f"{f['p99_ms']:.1f} ms",
                "errors": "-" if f.get("error_ratio") is None else f"{f['error_ratio']:.2%}"}
    slow = max((s for s in run.steps if s.get("actual_s") is not None), key=lambda s: s["actual_s"] / max(
        s["budget_s"], 1e-9), default=None)
    if run.kind == "chaos":
        return {"date": _date(run.started_at), "verdict": verdict_text(run), "faults": f.get("faults") or "-"}
    if run.kind == "restore-test":
        return {"date": _date(run.started_at), "verdict": verdict_text(run), **_restore_cols(f, scale),
                "acked": _count(f.get("events_acked"))}
    return {"date": _date(run.started_at), "verdict": verdict_text(run),
            "RTO": f"{_sec(f.get('rto_s'), scale)} / {_sec(run.targets.get('rto_s'), scale)}",
            "RPO": f"{_sec(f.get('rpo_s'), scale)} / {_sec(run.targets.get('rpo_s'), scale)}",
            "lost/acked": f"{_count(f.get('events_lost'))}/{_count(f.get('events_acked'))}",
            **({"cache RTO/RPO": f"{_sec(f.get('cache_rto_s'), scale)} / {_sec(f.get('cache_rpo_s'), scale)}",
                "cache lost": _count(f.get("cache_lost_writes"))} if f.get("cache_rto_s") is not None else {}),
            "slowest step": "-" if slow is None else f"{slow['id']} {slow['actual_s']:.2f}/{slow['budget_s']:g} s",
            "operator": run.operator or "-", **(_restore_cols(f, scale) if "restore_s" in f else {})}


def _restore_cols(f: dict[str, Any], scale: float) -> dict[str, str]:
    """Restore duration, backup age, latest-restorable lag, and what the restore lacked (a restore's trend)."""
    return {"restore": _sec(f.get("restore_s"), scale), "backup age": _sec(f.get("backup_age_s"), scale),
            "restorable lag": _sec(f.get("restorable_lag_s"), scale),
            "PITR price/defect": f"{_count(f.get('pitr_price_events'))}/{_count(f.get('backup_defect_events'))}"}


def _count(v: Any) -> str:
    return "-" if v is None else str(v)


def render_md(groups: list[Group], runs: list[Run]) -> str:
    lines = ["# Drill history", ""]
    for g in groups:
        lines += [f"## {g.title} (time scale {scale_text(g.time_scale)})", ""]
        lines += [f"- **regression**: {r.describe()}" for r in g.regressions] + ([""] if g.regressions else [])
        rows = [row_of(r, g.time_scale) for r in g.runs]
        if rows:
            cols = list(rows[0])
            lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(r[c] for c in cols) + " |" for r in rows]
        lines.append("")
    bad = [r for r in runs if r.status == "malformed"]
    if bad:
        lines += ["## Runs that could not be read", ""] + [f"- {r.path}: {r.problem}" for r in bad]
    return "\n".join(lines) + "\n"


def _bars(g: Group) -> str:
    """Each run's steps stacked (actual time), against the sum of the budgets, with RTO and its target."""
    runs = [r for r in g.runs if r.steps]
    if not runs:
        return ""
    ids = [s["id"] for s in runs[-1].steps]
    budget = sum(s["budget_s"] for s in runs[-1].steps)
    data = max([*(sum(s["actual_s"] or 0 for s in r.steps) for r in runs), *(r.figures.get("rto_s") or 0 for r in runs)])
    top = _top(data, budget)
    w, h, left, bw = 760, 220, 60, max(8, min(60, 600 // max(1, len(runs)) - 10))
    y = lambda v: 20 + h - v / top * h  # noqa: E731 - a scale, read once
    out = [f'<svg width="{w}" height="{h + 70}" xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="sans-serif">',
           *_limit_line(budget, top, y, left, w, f"sum of step budgets {budget:g} s"),
           f'<text x="{left - 6}" y="{y(top) + 4:.1f}" text-anchor="end">{top:.3g} s</text>',
           f'<text x="{left - 6}" y="{y(0):.1f}" text-anchor="end">0</text>']
    flagged = {r.metric[5:] for r in g.regressions if r.metric.startswith("step:")}
    for i, r in enumerate(runs):
        x, base = left + 10 + i * (bw + 10), 0.0
        for j, sid in enumerate(ids):
            v = next((s["actual_s"] or 0 for s in r.steps if s["id"] == sid), 0)
            stroke = ' stroke="#d62728" stroke-width="2"' if r is runs[-1] and sid in flagged else ""
            out.append(f'<rect x="{x}" y="{y(base + v):.1f}" width="{bw}" height="{max(0.5, v / top * h):.1f}" '
                       f'fill="{_COLOURS[j % len(_COLOURS)]}"{stroke}><title>{escape(sid)}: {v:.2f} s</title></rect>')
            base += v
        rto = r.figures.get("rto_s")
        if rto is not None:
            out.append(f'<line x1="{x - 3}" x2="{x + bw + 3}" y1="{y(rto):.1f}" y2="{y(rto):.1f}" stroke="#000" '
                       f'stroke-width="2"><title>RTO {rto} s</title></line>')
        out.append(f'<text x="{x + bw / 2}" y="{h + 36}" text-anchor="middle">{_date(r.started_at)[5:]}</text>')
    legend = " ".join(f'<tspan fill="{_COLOURS[j % len(_COLOURS)]}">■ {escape(sid)}</tspan>' for j, sid in enumerate(ids))
    out.append(f'<text x="{left}" y="{h + 60}">{legend} <tspan>— RTO</tspan></text></svg>')
    return "".join(out)


def _lines(g: Group, keys: list[tuple[str, str]], unit: str, target_key: str | None = None) -> str:
    """Figures over the runs as lines, and the target as a dashed line."""
    runs = g.runs
    vals = [float(r.figures[k]) for r in runs for k, _ in keys if r.figures.get(k) is not None]
    target = runs[-1].targets.get(target_key) if target_key else None
    top = _top(max(vals, default=0.0), target)
    w, h, left = 760, 160, 60
    step = (w - left - 30) / max(1, len(runs) - 1)
    x = lambda i: left + 10 + i * step  # noqa: E731
    y = lambda v: 10 + h - v / top * h  # noqa: E731
    out = [f'<svg width="{w}" height="{h + 40}" xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="sans-serif">',
           f'<text x="{left - 6}" y="{y(top) + 4:.1f}" text-anchor="end">{top:.3g} {unit}</text>']
    if target:
        out += _limit_line(target, top, y, left, w, f"target {target:g} {unit}")
    keys = [(k, label) for k, label in keys if any(r.figures.get(k) is not None for r in runs)]  # what was measured
    for c, (k, label) in enumerate(keys):
        pts = [(x(i), y(r.figures[k])) for i, r in enumerate(runs) if r.figures.get(k) is not None]
        colour = _COLOURS[c]
        out.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" fill="none" stroke="{colour}" '
                   f'stroke-width="2"/>' + "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>' for a, b in pts))
        out.append(f'<text x="{left + 10 + 90 * c}" y="{h + 32}" fill="{colour}">■ {escape(label)}</text>')
    return "".join(out) + "</svg>"


def _top(data: float, limit: float | None) -> float:
    """The chart's scale: the data's, with the limit only when it is near enough to keep the data readable."""
    top = (data or 1.0) * 1.15
    return max(top, limit * 1.05) if limit and limit <= 3 * top else top


def _limit_line(limit: float, top: float, y: Any, left: int, w: int, label: str) -> list[str]:
    if limit > top:  # far above the data: named, not drawn (the data would shrink to a line)
        return [f'<text x="{w - 10}" y="{y(top) + 10:.1f}" text-anchor="end" fill="#d62728">{escape(label)} '
                f'(above the chart)</text>']
    return [f'<line x1="{left}" x2="{w - 10}" y1="{y(limit):.1f}" y2="{y(limit):.1f}" stroke="#d62728" '
            f'stroke-dasharray="4 3"/>',
            f'<text x="{w - 10}" y="{y(limit) - 4:.1f}" text-anchor="end" fill="#d62728">{escape(label)}</text>']


def scale_text(ts: float) -> str:
    return f"1/{round(1 / ts)}" if ts < 1 and abs(1 / ts - round(1 / ts)) < 1e-3 else f"{ts:g}"


def render_html(groups: list[Group], runs: list[Run]) -> str:
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'><title>gameday: drill history</title>",
             "<style>body{font-family:sans-serif;margin:24px;max-width:900px} table{border-collapse:collapse;"
             "font-size:13px} td,th{border:1px solid #ccc;padding:3px 8px} .reg{color:#b00;font-weight:bold}"
             " .ok{color:#2a2}</style></head><body><h1>Drill history</h1>"]
    for g in groups:
        parts.append(f"<h2>{escape(g.kind)} {escape(g.name)} <small>on {escape(g.environment)}"
                     f"{', fault ' + escape(g.fault) if g.fault else ''}, time scale "
                     f"{scale_text(g.time_scale)}</small></h2>")
        parts += [f"<p class='reg'>Regression in the latest run: {escape(r.describe())}</p>" for r in g.regressions]
        if not g.regressions and len(g.runs) > 1:
            parts.append("<p class='ok'>No regression in the latest run.</p>")
        if g.kind == "drill":
            parts += ["<h3>Runbook steps per run (stacked) and RTO</h3>", _bars(g),
                      "<h3>RTO and RPO over time (lab seconds)</h3>",
                      _lines(g, [("rto_s", "RTO"), ("rpo_s", "RPO"), ("cache_rto_s", "cache RTO"),
                                 ("cache_rpo_s", "cache RPO")], "s", "rto_s")]
        elif g.kind == "capacity":
            parts += ["<h3>Knee over time (events/s: lower is worse)</h3>",
                      _lines(g, [("capacity_rate", "knee"), ("first_failing", "first failing")], "/s")]
        elif g.kind in ("gate", "load"):
            parts += ["<h3>Latency over time</h3>", _lines(g, [("p95_ms", "p95"), ("p99_ms", "p99")], "ms")]
        rows = [row_of(r, g.time_scale) for r in g.runs]
        if rows:
            parts.append("<table><tr>" + "".join(f"<th>{escape(c)}</th>" for c in rows[0]) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row.values()) + "</tr>" for row in rows]
            parts.append("</table>")
    bad = [r for r in runs if r.status == "malformed"]
    if bad:
        parts.append("<h2>Runs that could not be read</h2><ul>" +
                     "".join(f"<li>{escape(r.path)}: {escape(r.problem or '')}</li>" for r in bad) + "</ul>")
    return "".join(parts) + "</body></html>\n"
