"""The drill timeline as one self-contained SVG: throughput, latency and errors over time, the probe
strip, the fault and every runbook step (budget vs actual) marked.

Drawn by hand: a few polylines and rectangles need no plotting library, and inline SVG keeps the
HTML report a single file that opens anywhere without scripts.
"""

from __future__ import annotations

from html import escape
from typing import Any

from gameday.journal import Event
from gameday.report.svg import panel, time_axis

__all__ = ["timeline_svg"]

W, LEFT, RIGHT = 1100, 120, 30
PANELS = {"tput": (64, 110), "lat": (209, 110), "err": (354, 70)}  # room above for the marks' labels


def _panel(key: str, title: str, series: list[tuple[list[tuple[float, float]], str]], x: Any,
           log: bool = False) -> list[str]:
    y0, h = PANELS[key]
    return panel(y0, h, LEFT, W - RIGHT, title, series, x, log=log)
PROBE_Y = 449
STEPS_Y = 494
ROW = 20
LAG_H = 60  # the consumer-lag panel, drawn when the journal has readings


def timeline_svg(summary: dict[str, Any], events: list[Event]) -> str:
    t0 = summary.get("t0") or (events[0].t_wall if events else 0.0)
    ticks = [e for e in events if e.kind == "load.tick"]
    probes = [e for e in events if e.kind == "probe"]
    steps = summary.get("steps", [])
    # the drill's own span: from the first measurement to the last probe or step end (not the restore after it)
    times = [e.t_wall - t0 for e in [*ticks, *probes]] or [0.0, 1.0]
    times += [s["ended_at"] - t0 for s in steps if s.get("ended_at")]
    tmin, tmax = min(times), max(max(times), min(times) + 1) + 0.5
    plot_w = W - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + (t - tmin) / (tmax - tmin) * plot_w

    parts: list[str] = []
    lag = _lag_points(summary, tmin, tmax)
    steps_y = STEPS_Y + (LAG_H + 30 if lag is not None else 0)
    height = steps_y + ROW * max(1, len(steps)) + 40
    parts.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
                 f'font-family="sans-serif" font-size="12">')
    parts.append(f'<rect width="{W}" height="{height}" fill="white"/>')
    tput = [(e.t_wall - t0 - 0.5, float(e.value["acked_events"])) for e in ticks]
    sent = [(e.t_wall - t0 - 0.5, float(e.value["sent"])) for e in ticks]
    fine = next((e.value for e in events if e.kind == "load.series"), None)
    if fine:  # the ledger's answer times: throughput and errors at the run's own resolution
        tput, errs_fine = _fine(fine, t0, tmin, tmax)
        sent = []
    p95 = [(e.t_wall - t0 - 0.5, e.value["p95_ms"]) for e in ticks if e.value["p95_ms"] is not None]
    mx = [(e.t_wall - t0 - 0.5, e.value["max_ms"]) for e in ticks if e.value["max_ms"] is not None]
    errs = [(e.t_wall - t0 - 0.5, float(e.value["errors"] + e.value["indeterminate"])) for e in ticks]
    if fine:
        errs = errs_fine
    title = ("acknowledged events/s, per {:g} s".format(fine["bucket_s"]) if fine else
             "acknowledged events/s (grey: requests sent/s)")
    parts += _panel("tput", title, [(sent, "#bbbbbb"), (tput, "#1f77b4")], x)
    parts += _panel("lat", "latency from intended send, ms (log; blue p95, grey max)", [(mx, "#bbbbbb"), (p95, "#1f77b4")],
                    x, log=True)
    parts += _panel("err", "failed + unanswered events/s" if fine else "failed + unanswered requests/s",
                    [(errs, "#d62728")], x)
    parts += _probe_strip(summary, probes, x, t0)
    if lag is not None:  # MSK consumer lag as CloudWatch reported it (one point per reading)
        parts += panel(STEPS_Y + 12, LAG_H, LEFT, W - RIGHT, lag[0], [(lag[1], "#8c564b")], x)
    parts += _step_rows(steps, steps_y, x, t0)
    parts += _marks(summary, x, height)
    parts += time_axis(tmin, tmax, height - 22, LEFT, W - RIGHT, x)
    parts.append("</svg>")
    return "\n".join(parts)


def _step_rows(steps: list[dict[str, Any]], steps_y: float, x: Any, t0: float) -> list[str]:
    """One row per runbook step: its budget (dashed) and what it took (green done, red not)."""
    parts: list[str] = []
    for i, s in enumerate(steps):
        y = steps_y + i * ROW
        parts.append(f'<text x="{LEFT - 8}" y="{y + 13}" text-anchor="end">{i + 1}. {escape(s["id"])}</text>')
        if s["started_at"] is None:
            continue
        st = s["started_at"] - t0
        budget_end = min(x(st + s["budget_s"]), W - RIGHT)  # a long budget is clipped at the plot's edge
        parts.append(f'<rect x="{x(st):.1f}" y="{y + 2}" width="{max(1.0, budget_end - x(st)):.1f}" '
                     f'height="14" fill="none" stroke="#999" stroke-dasharray="3,2"/>')
        if s["actual_s"] is not None:
            colour = "#2ca02c" if s["ok"] else "#d62728"
            parts.append(f'<rect x="{x(st):.1f}" y="{y + 4}" width="{max(2.0, x(st + s["actual_s"]) - x(st)):.1f}" '
                         f'height="10" fill="{colour}" opacity="0.8"/>')
            label = f'{s["name"]}: {s["actual_s"]:.2f} s of {s["budget_s"]:.2f} s'
            parts.append(f'<text x="{x(st + s["actual_s"]) + 6:.1f}" y="{y + 13}" fill="#333">{escape(label)}</text>')
    return parts


def _lag_points(summary: dict[str, Any], tmin: float, tmax: float) -> tuple[str, list[tuple[float, float]]] | None:
    """(title, (t, max offset lag) within the plot) of the consumer-lag readings; None when there are none."""
    lag = summary.get("consumer_lag") or {}
    pts = [(r["t_s"], float(r["max_offset_lag"])) for r in lag.get("readings", [])
           if r.get("max_offset_lag") is not None and tmin <= r["t_s"] <= tmax]
    if not pts:
        return None
    return f"MSK consumer lag, max offset lag ({lag.get('consumer_group')} on {lag.get('topic')}, CloudWatch)", pts


def _probe_strip(summary: dict[str, Any], probes: list[Event], x: Any, t0: float) -> list[str]:
    """One mark per probe (green ok, red failed) and, under them, what the failing probes were answered."""
    parts: list[str] = []
    parts.append(f'<text x="{LEFT - 8}" y="{PROBE_Y + 12}" text-anchor="end">probe</text>')
    for p in probes:
        colour = "#2ca02c" if p.value["ok"] else "#d62728"
        parts.append(f'<rect x="{x(p.t_wall - t0):.1f}" y="{PROBE_Y}" width="3" height="16" fill="{colour}"/>')
    top = next((r for r in summary.get("failure_reasons", []) if r["source"] == "probe"), None)
    if top is not None:  # what the failing probes were answered, under their strip
        label = f'{top["reason"]} × {top["count"]}'
        parts.append(f'<text x="{LEFT}" y="{PROBE_Y + 29}" fill="#d62728">{escape(label[:150])}</text>')
    return parts


def _fine(series: dict[str, Any], t0: float, tmin: float, tmax: float) -> tuple[list[tuple[float, float]], ...]:
    """(acknowledged events/s, failed + unanswered events/s) per bucket of the ``load.series`` event."""
    b, start = series["bucket_s"], series["t_start"]
    acked: list[tuple[float, float]] = []
    bad: list[tuple[float, float]] = []
    for i, (a, f, n) in enumerate(zip(series["acked"], series["failed"], series["indeterminate"], strict=True)):
        t = start + (i + 0.5) * b - t0
        if tmin <= t <= tmax:
            acked.append((t, a / b))
            bad.append((t, (f + n) / b))
    return acked, bad


def _marks(summary: dict[str, Any], x: Any, height: float) -> list[str]:
    """Fault, detect, declare and recovered as dashed lines; a label close to another goes on the next row."""
    parts: list[str] = []
    marks = [("runbook start (planned)" if summary.get("planned") else "fault", 0.0, "#d62728"), ("detect", summary.get("t_detect_s"), "#ff7f0e"),
             ("declare", summary.get("t_declare_s"), "#9467bd"), ("recovered", summary.get("t_recovered_s"), "#2ca02c")]
    placed: list[float] = []  # label positions so far: a label close to another goes on the next row
    for label, t, colour in marks:
        if t is None:
            continue
        row = sum(1 for px in placed if abs(px - x(t)) < 110)
        placed.append(x(t))
        parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{6 + 12 * row}" y2="{height - 30}" stroke="{colour}" '
                     f'stroke-width="1.5" stroke-dasharray="5,3"/>')
        parts.append(f'<text x="{x(t) + 3:.1f}" y="{14 + 12 * row}" fill="{colour}" font-weight="bold">'
                     f'{label} {t:+.2f} s</text>')
    return parts
