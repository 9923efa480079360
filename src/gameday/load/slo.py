"""SLO expressions (``p95<300ms``, ``errors<0.1%``, ``achieved>=95%``), a gate's default SLOs, and their
evaluation."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from gameday.errors import ConfigError

__all__ = ["Slo", "parse_slo", "evaluate", "with_defaults", "DEFAULT_SLOS", "shown"]

# What a gate judges when the user did not say: the throughput the release must carry, and its errors
# (a closed-model run has no target rate: only the errors default applies).
DEFAULT_SLOS = ("achieved>=95%", "errors<1%")

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_RE = re.compile(r"^\s*(?P<metric>p\d{1,3}(?:\.\d+)?|max|errors|achieved|late|dropped)\s*"
                 r"(?P<op><=|>=|<|>)\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>ms|us|s|%)?"
                 r"(?:\s+over\s+(?P<over>\d+(?:\.\d+)?)\s*(?P<over_unit>s|m|h))?\s*$")
_SPAN = {"s": 1, "m": 60, "h": 3600}
WINDOWED = ("max", "errors")  # besides the percentiles: what a window's own figures can judge
_TIME = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Slo:
    expr: str
    metric: str  # p95 | max | errors | achieved | late | dropped
    op: str
    threshold: float  # milliseconds for latency, a ratio (0..1) for errors/achieved/late, a count for dropped
    default: bool = False  # carried by the gate because the user gave no SLO on this metric
    over_s: int | None = None  # judged on every window of this many seconds (``over 5m``), not the run as a whole

    def holds(self, observed: float) -> bool:
        return _OPS[self.op](observed, self.threshold)


def parse_slo(expr: str, option: str = "--slo") -> Slo:
    """Parse one --slo (or ``option``: --hard-limit) expression; ConfigError (exit 2) names the option and says
    what was expected."""
    try:
        return _parse_slo(expr)
    except ConfigError as exc:
        if option == "--slo":
            raise
        raise ConfigError(str(exc).removeprefix("--slo: "), field=option) from None


def _parse_slo(expr: str) -> Slo:
    m = _RE.match(expr)
    if not m:
        raise ConfigError(f"cannot parse {expr!r}: expected METRIC OP NUMBER[UNIT], e.g. 'p95<300ms', "
                          "'p99<1s', 'errors<0.1%', 'achieved>=95%', 'p99<500ms over 5m' (metrics: pNN, max, errors, "
                          "achieved, late, dropped; a window: over Ns, Nm or Nh)", field="--slo")
    slo = _parse_figure(expr, m)
    if m["over"] is None:
        return slo
    over = float(m["over"]) * _SPAN[m["over_unit"]]
    if over < 1 or over != int(over):
        raise ConfigError(f"{expr!r}: a window is a whole number of seconds, at least 1 s", field="--slo")
    if not (slo.metric.startswith("p") or slo.metric in WINDOWED):
        raise ConfigError(f"{expr!r}: only latency (pNN, max) and errors can be judged over windows", field="--slo")
    return replace(slo, over_s=int(over))


def _parse_figure(expr: str, m: re.Match[str]) -> Slo:
    metric, op, num, unit = m["metric"], m["op"], float(m["num"]), m["unit"]
    lower = metric == "achieved"  # the one figure a release must reach; every other one it must stay under
    if lower != op.startswith(">"):
        want = ">=" if lower else "<"
        raise ConfigError(f"{expr!r}: {metric} is {'a floor' if lower else 'a ceiling'}: write "
                          f"'{metric}{want}{m['num']}{unit or ''}' (the other way round a worse service would pass)",
                          field="--slo")
    if metric.startswith("p") or metric == "max":
        if metric.startswith("p") and not 0 < float(metric[1:]) < 100:
            raise ConfigError(f"{expr!r}: percentile must be between 0 and 100", field="--slo")
        if unit not in _TIME:
            raise ConfigError(f"{expr!r}: a latency needs a unit: us, ms or s", field="--slo")
        return Slo(expr, metric, op, num * _TIME[unit])
    if metric == "dropped":
        if unit is not None:
            raise ConfigError(f"{expr!r}: dropped is a count, without a unit", field="--slo")
        return Slo(expr, metric, op, num)
    if unit != "%":
        raise ConfigError(f"{expr!r}: {metric} is a percentage, e.g. '{metric}{op}{m['num']}%'", field="--slo")
    if num > 100:
        raise ConfigError(f"{expr!r}: a percentage cannot exceed 100", field="--slo")
    return Slo(expr, metric, op, num / 100)


def observed_value(slo: Slo, summary: dict[str, Any]) -> float | None:
    """The figure ``slo`` is about, from a load summary."""
    m = slo.metric
    if m.startswith("p"):
        return summary["percentiles_ms"].get(m[1:])
    return {"max": summary.get("max_ms"), "errors": summary.get("error_ratio"),
            "achieved": summary.get("achieved_ratio"), "late": summary.get("late_ratio"),
            "dropped": summary.get("dropped")}[m]


def with_defaults(slos: list[Slo], *, closed: bool = False) -> list[Slo]:
    """``slos`` and, for each metric of DEFAULT_SLOS the user gave no SLO on, its default (marked so)."""
    given = {s.metric for s in slos if not s.over_s}  # a window does not replace the run's own default
    extra = [replace(parse_slo(d), default=True) for d in DEFAULT_SLOS]
    return slos + [d for d in extra if d.metric not in given and not (closed and d.metric == "achieved")]


def shown(slo: Slo, observed: float | None, summary: dict[str, Any]) -> str:
    """The observed figure as a person reads it: ``100 %``, ``312.5 ms``, ``3``; never ``None``."""
    if observed is None:
        if not summary.get("requests_sent"):
            return "not measured: nothing was sent"
        if not summary.get("events_acked"):
            return "not measured: no request was acknowledged"
        return "not measured in this run"
    if slo.metric.startswith("p") or slo.metric == "max":
        return f"{observed:g} ms"
    if slo.metric == "dropped":
        return f"{observed:g}"
    return f"{observed * 100:.4g} %"


def evaluate(slos: list[Slo], summary: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for s in slos:
        obs = observed_value(s, summary)
        out.append({"expr": s.expr, "observed": obs, "shown": shown(s, obs, summary),
                    "ok": obs is not None and s.holds(obs), "default": s.default})
    return out
