"""Trends and regressions: a pure function of the collected runs.

Runs are grouped by what changes their result: kind, name, environment, the fault drawn (a rehearsal of one
drill draws a region, a zone or a database fault) and time scale (a lab series and an AWS series never mix).
The latest run of a group regressed when one of its figures (RTO, RPO, a step's time, a gate's p95) is
worse than the median of the previous ``window`` runs by more than ``threshold`` and by more than an
absolute floor (so lab noise does not flag): 30 s of real time (0.5 s on a 1/60 lab) or 10 ms of p95. A capacity
run's knee (``capacity_rate``) is worse when it is *lower* by more than ``threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from gameday.history.collect import Run

__all__ = ["Regression", "Group", "trends"]

FLOOR_REAL_S = 30.0
FLOOR_P95_MS = 10.0
LOWER_IS_WORSE = frozenset({"capacity_rate"})


@dataclass(frozen=True)
class Regression:
    run: str
    metric: str  # rto_s, rpo_s, step:<id>, p95_ms
    value: float
    baseline: float  # the median of the previous runs

    @property
    def worse_by(self) -> float:
        return self.baseline - self.value if self.metric in LOWER_IS_WORSE else self.value - self.baseline

    def describe(self) -> str:
        if self.metric in LOWER_IS_WORSE:
            return (f"knee {self.value:g} events/s vs median {self.baseline:g} events/s of the previous runs: "
                    f"-{self.worse_by:.3g} events/s (-{self.worse_by / self.baseline:.0%})")
        ratio = f" (+{self.worse_by / self.baseline:.0%})" if self.baseline else ""
        unit = "ms" if self.metric == "p95_ms" else "s"
        return (f"{self.metric.replace('step:', 'step ')} {self.value:g} {unit} vs median {self.baseline:g} {unit}"
                f" of the previous runs: +{self.worse_by:.3g} {unit}{ratio}")


@dataclass
class Group:
    kind: str
    name: str
    environment: str
    fault: str  # "" when the kind of run has none (a gate)
    time_scale: float
    runs: list[Run]
    regressions: list[Regression]

    @property
    def title(self) -> str:
        fault = f", fault {self.fault}" if self.fault else ""
        return f"{self.kind} {self.name} on {self.environment}{fault}"


def _metrics(run: Run) -> dict[str, float]:
    out = {k: float(v) for k, v in run.figures.items()
           if k in ("rto_s", "rpo_s", "p95_ms", "capacity_rate", "restore_s") and v is not None}
    out.update({f"step:{s['id']}": float(s["actual_s"]) for s in run.steps if s.get("actual_s") is not None})
    return out


def _floor(metric: str, time_scale: float) -> float:
    return FLOOR_P95_MS if metric == "p95_ms" else FLOOR_REAL_S * time_scale


def regressions(runs: list[Run], window: int = 5, threshold: float = 0.2) -> list[Regression]:
    """What got worse in the latest complete run of one group, against the median of the ones before."""
    done = [r for r in runs if r.status == "complete"]
    if len(done) < 2:
        return []
    latest, before = done[-1], done[-1 - window:-1]
    out = []
    for metric, value in _metrics(latest).items():
        history = [m[metric] for m in map(_metrics, before) if metric in m]
        if not history:
            continue
        base = median(history)
        if metric in LOWER_IS_WORSE:
            if value < base * (1 - threshold):
                out.append(Regression(latest.path, metric, value, base))
        elif value > base * (1 + threshold) and value - base > _floor(metric, latest.time_scale):
            out.append(Regression(latest.path, metric, value, base))
    return sorted(out, key=lambda r: -r.worse_by)


def trends(runs: list[Run], window: int = 5, threshold: float = 0.2) -> list[Group]:
    groups: dict[tuple[str, str, str, str, float], list[Run]] = {}
    for r in runs:
        if r.status != "malformed":
            groups.setdefault(r.group, []).append(r)
    return [Group(k, n, e, f, ts, rs, regressions(rs, window, threshold)) for (k, n, e, f, ts), rs in groups.items()]


def as_json(groups: list[Group], runs: list[Run]) -> dict[str, Any]:
    from dataclasses import asdict

    return {"groups": [{"kind": g.kind, "name": g.name, "environment": g.environment, "fault": g.fault or None,
                        "time_scale": g.time_scale,
                        "runs": [asdict(r) for r in g.runs],
                        "regressions": [{**asdict(x), "text": x.describe()} for x in g.regressions]} for g in groups],
            "malformed": [asdict(r) for r in runs if r.status == "malformed"]}
