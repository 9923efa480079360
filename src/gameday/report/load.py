"""Load reports: summary.json, junit.xml (one case per SLO), report.html (throughput and latency over time)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from gameday.report.junit import gate_cases, render_junit
from gameday.report.svg import panel, time_axis

__all__ = ["write_load_reports", "load_junit", "load_html", "Timeline"]

W, LEFT, RIGHT = 1000, 90, 30


def load_junit(s: dict[str, Any]) -> str:
    return render_junit("gameday.load.gate", gate_cases(s))


MAX_POINTS = 720  # the HTML's timeline keeps at most this many points; the full series stays in the data files


class Timeline:
    """The progress folded, as it streams, into buckets of ``width`` seconds (1 for a run of up to MAX_POINTS
    seconds): rates are per second averaged over the bucket, latency the bucket's worst second (a spike is
    never averaged away). Memory: the buckets, whatever the run's length."""

    def __init__(self, duration_s: float) -> None:
        # the ticks of a run of d seconds are at t = 1 .. d (a tick closes its second): d + 1 bucket starts
        self.width = max(1, math.ceil((max(duration_s, 1.0) + 1) / MAX_POINTS))
        self.by_b: dict[int, dict[str, float]] = {}
        self.seconds: dict[int, int] = {}  # bucket -> a bit per second of it that has progress (not a set of them)

    def add(self, r: dict[str, Any]) -> None:  # several workers: their seconds add up
        sec = int(round(r["t"]))
        k = sec // self.width * self.width
        b = self.by_b.setdefault(k, {"target": 0.0, "acked": 0.0, "p95": 0.0, "p99": 0.0, "err": 0.0})
        self.seconds[k] = self.seconds.get(k, 0) | 1 << (sec - k)
        b["target"] += r["target_rate"]
        b["acked"] += r["acked_events"]
        b["p95"] = max(b["p95"], r["p95_ms"] or 0)
        b["p99"] = max(b["p99"], r["p99_ms"] or 0)
        b["err"] += r["errors"] + r["indeterminate"]

    def buckets(self) -> tuple[dict[int, dict[str, float]], int]:
        out = {k: dict(b) for k, b in self.by_b.items()}
        for k, b in out.items():
            n = bin(self.seconds[k]).count("1")
            for key in ("target", "acked", "err"):
                b[key] /= n
        return out, self.width


def _buckets(progress: Iterable[dict[str, Any]] | Timeline, duration_s: float) -> tuple[dict[int, dict[str, float]], int]:
    if isinstance(progress, Timeline):  # folded already, as the journal streamed by
        return progress.buckets()
    timeline = Timeline(duration_s)
    for r in progress:
        timeline.add(r)
    return timeline.buckets()


def _svg(progress: Iterable[dict[str, Any]] | Timeline, duration_s: float) -> str:
    by_t, width = _buckets(progress, duration_s)
    per = "" if width == 1 else f" (each point: {width} s, rates averaged, latency its worst second)"
    ts = sorted(by_t)
    tmax = max(ts[-1] if ts else 1, 1)
    x = lambda t: LEFT + t / tmax * (W - LEFT - RIGHT)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="420" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>']
    parts += panel(30, 120, LEFT, W - RIGHT, f"events/s: target (grey) and acknowledged (blue){per}",
                   [([(t, by_t[t]["target"]) for t in ts], "#bbbbbb"), ([(t, by_t[t]["acked"]) for t in ts], "#1f77b4")], x)
    parts += panel(180, 120, LEFT, W - RIGHT, "latency from intended send, ms (log): p95 blue, p99 grey",
                   [([(t, by_t[t]["p99"]) for t in ts], "#bbbbbb"), ([(t, by_t[t]["p95"]) for t in ts], "#1f77b4")], x,
                   log=True)
    parts += panel(330, 50, LEFT, W - RIGHT, f"failed + unanswered requests/s{per}",
                   [([(t, by_t[t]["err"]) for t in ts], "#d62728")], x)
    parts += time_axis(0, tmax, 410, LEFT, W - RIGHT, x)
    parts.append("</svg>")
    return "\n".join(parts)


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}: {{ s.verdict }}</title>
<style>body{font-family:sans-serif;margin:24px} td,th{border:1px solid #ccc;padding:4px 10px} table{border-collapse:collapse}
.v{padding:4px 12px;color:#fff;border-radius:4px} .pass{background:#2ca02c} .fail{background:#d62728} .inconclusive{background:#ff7f0e} .aborted{background:#777}</style>
</head><body><h1>{{ title }} <span class="v {{ s.verdict }}">{{ s.verdict | upper }}</span></h1>
<p>{{ s.profile }} against {{ s.host }}: target {{ s.target_rate }} events/s, batch {{ s.batch }}, {{ "%.1f" | format(s.duration_s) }} s,
{{ s.workers }} generator process(es).</p>
{% if s.reasons %}<ul>{% for r in s.reasons %}<li>{{ r }}</li>{% endfor %}</ul>{% endif %}
<table><tr><th>achieved (steady window)</th><td>{{ s.achieved_rate }} events/s ({{ s.achieved_ratio }})</td></tr>
<tr><th>p50 / p95 / p99 / max</th><td>{{ s.p50_ms }} / {{ s.p95_ms }} / {{ s.p99_ms }} / {{ s.max_ms }} ms</td></tr>
<tr><th>error ratio</th><td>{{ s.error_ratio }}</td></tr><tr><th>late / dropped</th><td>{{ s.late }} / {{ s.dropped }}</td></tr></table>
<h2>Over time</h2>{{ svg }}
<h2>SLOs</h2><table><tr><th>SLO</th><th>observed</th><th>ok</th></tr>
{% for x in s.slos %}<tr><td>{{ x.expr }}{{ " (default)" if x.default }}</td><td>{{ x.shown or x.observed }}</td><td>{{ "yes" if x.ok else "NO" }}</td></tr>{% endfor %}</table>
{% if s.stairs %}<h2>Stairs (each judged by the gate's rules)</h2><table><tr><th>stair</th><th>seconds</th><th>target events/s</th>
<th>achieved events/s</th><th>p50 / p95 / p99 ms</th><th>error ratio</th><th>verdict</th><th>why</th></tr>
{% for r in s.stairs %}<tr><td>{{ r.stair }} of {{ r.of }}</td><td>{{ r.from_s }}-{{ r.to_s }}</td><td>{{ r.target_rate }}</td>
<td>{{ r.achieved_rate }}</td><td>{{ r.p50_ms }} / {{ r.p95_ms }} / {{ r.p99_ms }}</td><td>{{ r.error_ratio }}</td>
<td><span class="v {{ r.verdict or 'aborted' }}">{{ (r.verdict or "not reached") | upper }}</span></td><td>{{ r.reasons | join("; ") }}</td></tr>{% endfor %}</table>{% endif %}
{% if s.failure_reasons %}<h2>Top error reasons</h2><table><tr><th>count</th><th>reason</th><th>first / last (s after start)</th></tr>
{% for f in s.failure_reasons %}<tr><td>{{ f.count }}</td><td>{{ f.reason }}</td><td>{{ f.first_s }} / {{ f.last_s }}</td></tr>{% endfor %}</table>{% endif %}
</body></html>
"""


def load_html(s: dict[str, Any], progress: Iterable[dict[str, Any]] | Timeline) -> str:
    title = "Load gate" if s.get("gate") or s.get("slos") else \
        "Load run (no SLO judged: the verdict is the generator's health)"
    return Environment(autoescape=True).from_string(_PAGE).render(s=s, svg=Markup(_svg(progress, float(s.get("duration_s") or 0.0))), title=title)


def write_load_reports(summary: dict[str, Any], progress: Iterable[dict[str, Any]] | Timeline, out_dir: Path) -> None:
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    (out_dir / "junit.xml").write_text(load_junit(summary))
    (out_dir / "report.html").write_text(load_html(summary, progress))
