"""report.md: the drill summary for people (a pull request comment, a wiki page)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from gameday.report.aws_lines import aws_rows, aws_sentences, lag_rows
from gameday.report.restore import restore_rows
from gameday.report.words import fmt, full_scale, indeterminate_sentence, rpo_sentence, rto_sentence, seconds, target_rows

__all__ = ["render_markdown"]

_TEMPLATE = """# Drill {{ s.drill }}: {{ s.verdict | upper }}

Run `{{ s.run_id }}` on environment `{{ s.environment }}`{% if s.time_scale != 1 %} (time scale {{ "%.4g" | format(s.time_scale) }}: budgets and targets are compressed; every time is also given at full scale){% endif %}.

| measure | value |
|---|---|
| RTO | {{ full(s.rto_s) }} |
| RPO (data time: heartbeat and ledger) | {{ full(s.rpo_s) }} |
| time to detect | {{ full(s.t_detect_s) }} |
| time to declare | {{ full(s.t_declare_s) }} |
| events acknowledged | {{ fmt(s.events_acked) }} |
| events lost (acknowledged, missing on the new primary) | {{ fmt(s.events_lost) }} |
| events indeterminate (no answer; present afterwards) | {{ fmt(s.events_indeterminate) }} ({{ fmt(s.indeterminate_present) }}) |
| events unexpected (refused, present anyway) | {{ fmt(s.events_unexpected) }} |
{% for label, value in aws_rows %}| {{ label }} | {{ value }} |
{% endfor %}
{% if s.cache %}| cache RTO (SET then GET through the primary endpoint) | {{ full(s.cache.rto_s) }} |
| cache RPO (span of acknowledged cache writes lost) | {{ full(s.cache.rpo_s) }} |
| cache writes acknowledged / lost | {{ fmt(s.cache.writes_acked) }} / {{ fmt(s.cache.lost_writes) }} |
{% endif %}
{{ rto }}

{{ rpo }}

{{ indeterminate }}
{% for line in aws_sentences %}
{{ line }}
{% endfor %}{% if lag_rows %}
## MSK consumer lag (CloudWatch)

| time | max offset lag | estimated max time lag |
|---|---|---|
{% for r in lag_rows %}| {{ r.t }} | {{ r.offset }} | {{ r.time }} |
{% endfor %}{% endif %}{% if restore %}
## Restore

| measure | value |
|---|---|
{% for k, v in restore %}| {{ k }} | {{ v }} |
{% endfor %}{% endif %}{% if s.failure_reasons %}
## What the service answered

Top failure reasons, times relative to {{ "T0" if s.t0 is not none else "the check before the fault" }}:

| source | reason | count | first | last |
|---|---|---|---|---|
{% for r in s.failure_reasons %}| {{ r.source }} | {{ cell(r.reason) }} | {{ r.count }} | {{ at(r.first_s) }} | {{ at(r.last_s) }} |
{% endfor %}{% endif %}
## Targets

| target | limit | observed | ok |
|---|---|---|---|
{% for t in targets %}| {{ t.name }} | {{ t.limit }} | {{ t.observed }} | {{ "yes" if t.ok == "yes" else "**NO**" }} |
{% endfor %}
## Runbook steps

| # | step | kind | budget | actual | ok |
|---|---|---|---|---|---|
{% for st in s.steps %}| {{ loop.index }} | {{ st.name }}{% if st.auto_confirmed %} (auto-confirmed){% elif st.confirmed_by %} (confirmed by {{ st.confirmed_by }}){% endif %} | {{ st.kind }} | {{ secs(st.budget_s) }} | {{ secs(st.actual_s) }} | {{ "yes" if st.ok else ("**over budget**" if st.over_budget else "**not done**") }} |
{% endfor %}
{% if s.reasons or s.diagnosis %}## Why

{% for r in s.reasons %}- {{ r }}
{% endfor %}{% for r in s.diagnosis %}- {{ r }}
{% endfor %}{% endif %}"""


def render_markdown(summary: dict[str, Any]) -> str:
    s = {"targets": [], "steps": [], "reasons": [], "events_acked": None, "events_lost": None,
         "events_indeterminate": None, "indeterminate_present": None, "events_unexpected": None,
         "rto_s": None, "rpo_s": None, "t_detect_s": None, "t_declare_s": None, "time_scale": 1,
         "drill": "?", "run_id": "?", "environment": "?", "failure_reasons": [], "diagnosis": [], "t0": None,
         **summary}
    scale = s.get("time_scale") or 1
    return Environment(autoescape=False).from_string(_TEMPLATE).render(
        s=s, fmt=fmt, secs=seconds, at=lambda t: "-" if t is None else f"{t:+.2f} s",
        cell=lambda text: text.replace("|", "\\|"), full=lambda v: full_scale(v, scale), targets=target_rows(s),
        rto=rto_sentence(s), rpo=rpo_sentence(s), indeterminate=indeterminate_sentence(s), aws_rows=aws_rows(s),
        aws_sentences=aws_sentences(s), lag_rows=lag_rows(s), restore=restore_rows(s))
