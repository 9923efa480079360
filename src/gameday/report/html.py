"""report.html: a self-contained page (no scripts, no external files) with the timeline chart."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from gameday.journal import Event
from gameday.report.aws_lines import aws_rows, aws_sentences
from gameday.report.restore import restore_rows
from gameday.report.timeline import timeline_svg
from gameday.report.words import fmt, full_scale, indeterminate_sentence, rpo_sentence, rto_sentence, seconds, target_rows

__all__ = ["render_html"]

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drill {{ s.drill }}: {{ s.verdict }}</title>
<style>
 body { font-family: sans-serif; margin: 24px; color: #222; }
 .verdict { display: inline-block; padding: 4px 12px; border-radius: 4px; color: white; font-weight: bold; }
 .pass { background: #2ca02c; } .fail { background: #d62728; } .inconclusive, .aborted { background: #ff7f0e; }
 table { border-collapse: collapse; margin: 12px 0; } td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
 .bad { color: #d62728; font-weight: bold; } .figures td:nth-child(2) { text-align: right; }
</style></head><body>
<h1>Drill {{ s.drill }} <span class="verdict {{ s.verdict }}">{{ s.verdict | upper }}</span></h1>
<p>Run <code>{{ s.run_id }}</code> on <code>{{ s.environment }}</code>{% if s.time_scale != 1 %}; time scale {{ "%.4g" | format(s.time_scale) }} (budgets and time targets compressed){% endif %}.</p>
{% if s.reasons or s.diagnosis %}<ul>{% for r in s.reasons %}<li class="bad">{{ r }}</li>{% endfor %}{% for r in s.diagnosis %}<li class="bad">{{ r }}</li>{% endfor %}</ul>{% endif %}
<table class="figures">
<tr><th>RTO</th><td>{{ full(s.rto_s) }}</td></tr>
<tr><th>RPO (data time: heartbeat and ledger)</th><td>{{ full(s.rpo_s) }}</td></tr>
<tr><th>time to detect / declare</th><td>{{ full(s.t_detect_s) }} / {{ full(s.t_declare_s) }}</td></tr>
<tr><th>events acknowledged / lost</th><td>{{ fmt(s.events_acked) }} / {{ fmt(s.events_lost) }}</td></tr>
<tr><th>events indeterminate (present afterwards)</th><td>{{ fmt(s.events_indeterminate) }} ({{ fmt(s.indeterminate_present) }})</td></tr>
{% for label, value in aws_rows %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}
{% if s.cache %}<tr><th>cache RTO / RPO (through the primary endpoint)</th><td>{{ full(s.cache.rto_s) }} / {{ full(s.cache.rpo_s) }}</td></tr>
<tr><th>cache writes acknowledged / lost</th><td>{{ fmt(s.cache.writes_acked) }} / {{ fmt(s.cache.lost_writes) }}</td></tr>{% endif %}
</table>
<p>{{ rto }}</p>
<p>{{ rpo }}</p>
<p>{{ indeterminate }}</p>
{% for line in aws_sentences %}<p>{{ line }}</p>{% endfor %}
{% if restore %}<h2>Restore</h2>
<table>{% for k, v in restore %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table>{% endif %}
{% if s.failure_reasons %}<h2>What the service answered</h2>
<p>Top failure reasons, times relative to {{ "T0" if s.t0 is not none else "the check before the fault" }}.</p>
<table class="reasons"><tr><th>source</th><th>reason</th><th>count</th><th>first</th><th>last</th></tr>
{% for r in s.failure_reasons %}<tr><td>{{ r.source }}</td><td><code>{{ r.reason }}</code></td><td>{{ r.count }}</td><td>{{ at(r.first_s) }}</td><td>{{ at(r.last_s) }}</td></tr>{% endfor %}
</table>{% endif %}
<h2>Timeline</h2>
{{ svg }}
<h2>Targets</h2>
<table><tr><th>target</th><th>limit</th><th>observed</th><th>ok</th></tr>
{% for t in targets %}<tr><td>{{ t.name }}</td><td>{{ t.limit }}</td><td>{{ t.observed }}</td><td class="{{ '' if t.ok == 'yes' else 'bad' }}">{{ t.ok }}</td></tr>{% endfor %}
</table>
<h2>Runbook steps</h2>
<table><tr><th>#</th><th>step</th><th>kind</th><th>budget</th><th>actual</th><th>ok</th><th>detail</th></tr>
{% for st in s.steps %}<tr><td>{{ loop.index }}</td><td>{{ st.name }}{% if st.auto_confirmed %} <small>(auto-confirmed)</small>{% elif st.confirmed_by %} <small>(confirmed by {{ st.confirmed_by }})</small>{% endif %}</td><td>{{ st.kind }}</td><td>{{ secs(st.budget_s) }}</td><td>{{ secs(st.actual_s) }}</td>
<td class="{{ '' if st.ok else 'bad' }}">{{ "yes" if st.ok else ("over budget" if st.over_budget else "not done") }}</td><td>{{ st.detail }}</td></tr>{% endfor %}
</table>
</body></html>
"""


def render_html(summary: dict[str, Any], events: list[Event]) -> str:
    s = {"targets": [], "steps": [], "reasons": [], "time_scale": 1, "events_acked": None, "events_lost": None,
         "events_indeterminate": None, "indeterminate_present": None, "drill": "?", "run_id": "?",
         "environment": "?", "rto_s": None, "rpo_s": None, "t_detect_s": None, "t_declare_s": None, "t0": None,
         "failure_reasons": [], "diagnosis": [], **summary}
    env = Environment(autoescape=True)
    from markupsafe import Markup

    scale = s.get("time_scale") or 1
    return env.from_string(_TEMPLATE).render(s=s, fmt=fmt, secs=seconds, at=lambda t: "-" if t is None else f"{t:+.2f} s", full=lambda v: full_scale(v, scale),
                                             targets=target_rows(s), rto=rto_sentence(s), rpo=rpo_sentence(s),
                                             indeterminate=indeterminate_sentence(s), aws_rows=aws_rows(s),
                                             aws_sentences=aws_sentences(s), restore=restore_rows(s),
                                             svg=Markup(timeline_svg(summary, events)))
