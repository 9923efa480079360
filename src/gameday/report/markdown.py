"""report.md: the drill summary for people (a pull request comment, a wiki page)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

__all__ = ["render_markdown"]

_TEMPLATE = """# Drill {{ s.drill }}: {{ s.verdict | upper }}

Run `{{ s.run_id }}` on environment `{{ s.environment }}`{% if s.time_scale != 1 %} (time scale {{ "%.4g" | format(s.time_scale) }}: budgets and time targets compressed from their real values){% endif %}.

| measure | value |
|---|---|
| RTO | {{ fmt(s.rto_s) }} s |
| RPO (time: heartbeats and ledger) | {{ fmt(s.rpo_s) }} s |
| time to detect | {{ fmt(s.t_detect_s) }} s |
| time to declare | {{ fmt(s.t_declare_s) }} s |
| events acknowledged | {{ s.events_acked }} |
| events lost (acknowledged, missing on the new primary) | {{ s.events_lost }} |
| events indeterminate (no answer; present afterwards) | {{ s.events_indeterminate }} ({{ s.indeterminate_present }}) |
| events unexpected (refused, present anyway) | {{ s.events_unexpected }} |

## Targets

| target | limit | observed | ok |
|---|---|---|---|
{% for t in s.targets %}| {{ t.name }} | {{ t.target_s if t.target_s is defined else t.target }}{% if t.target_real_s is defined %} (real {{ t.target_real_s }} s){% endif %} | {{ fmt(t.observed) }} | {{ "yes" if t.ok else "**NO**" }} |
{% endfor %}
## Runbook steps

| # | step | kind | budget s | actual s | ok |
|---|---|---|---|---|---|
{% for st in s.steps %}| {{ loop.index }} | {{ st.name }}{% if st.auto_confirmed %} (auto-confirmed){% endif %} | {{ st.kind }} | {{ st.budget_s }} | {{ fmt(st.actual_s) }} | {{ "yes" if st.ok else ("**over budget**" if st.over_budget else "**not done**") }} |
{% endfor %}
{% if s.reasons %}## Why

{% for r in s.reasons %}- {{ r }}
{% endfor %}{% endif %}"""


def _fmt(v: Any) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def render_markdown(summary: dict[str, Any]) -> str:
    s = {"targets": [], "steps": [], "reasons": [], "events_acked": "n/a", "events_lost": "n/a",
         "events_indeterminate": "n/a", "indeterminate_present": "n/a", "events_unexpected": "n/a",
         "rto_s": None, "rpo_s": None, "t_detect_s": None, "t_declare_s": None, "time_scale": 1,
         "drill": "?", "run_id": "?", "environment": "?", **summary}
    return Environment(autoescape=False).from_string(_TEMPLATE).render(s=s, fmt=_fmt)
