"""The gate's verdict rule, pure: which SLO breaches the service makes on its own, which the generator could
have made, and the verdict they add up to.

A failure the service caused (an HTTP status outside ``ok``, a refused, reset or dropped connection, a timeout
while the generator kept up) is the service's whatever else went wrong: a breach it alone explains is FAIL even
when the generator was also limited. INCONCLUSIVE is for a run where what breached could be the generator's
doing (latency or throughput while it was late, saturated or dropping; failures on its own side).

The evidence is ordered in time (:func:`breached_first`): an SLO the per-second progress shows breached for two
seconds in a row *before* the first second the generator was limited is the service's breach (past a service's
knee its queue grows, so does latency, and an open model's connections, rate x latency, then run into the
generator's cap: the cap came second).
"""

from __future__ import annotations

from typing import Any

from gameday.load.limits import holds_now
from gameday.load.slo import Slo
from gameday.verdict import Verdict

__all__ = ["service_failures", "breach_text", "split_breaches", "decide", "limited_at", "breached_first"]

PASS, FAIL, INCONCLUSIVE = Verdict.PASS.value, Verdict.FAIL.value, Verdict.INCONCLUSIVE.value


def service_failures(counts: dict[str, int], *, generator_slow: bool) -> int:
    """Failed requests the service caused: HTTP errors, refused or dropped connections, and timeouts unless the
    generator itself was too slow (saturated CPU, behind its schedule) to be sure it read the answer in time."""
    n = counts.get("http_errors", 0) + counts.get("refused", 0)
    return n + (0 if generator_slow else counts.get("timeouts", 0))


def _service_alone(slo: Slo, service_ratio: float | None) -> bool:
    """Whether the service's own failures breach ``slo`` however well the generator had done."""
    if service_ratio is None:
        return False
    if slo.metric == "errors":
        return not slo.holds(service_ratio)
    if slo.metric == "achieved" and slo.op in (">", ">="):  # every failed request is throughput not carried
        return not slo.holds(1.0 - service_ratio)
    return False


def breach_text(result: dict[str, Any]) -> str:
    tag = " (default SLO)" if result.get("default") else ""
    return f"SLO breached: {result['expr']}{tag}, observed {result['shown']}"


def limited_at(ticks: list[dict[str, Any]], *, late_share: float, saturated_cpu: float) -> float | None:
    """The first second (progress ``t``) the generator was limited: more than ``late_share`` of that second's
    requests started late, it dropped any, or its CPU was saturated; None: no second shows it."""
    out: float | None = None
    for r in ticks:
        sent = r.get("sent") or 0
        if (sent and (r.get("late") or 0) / sent > late_share) or (r.get("dropped") or 0) \
                or (r.get("cpu_percent") or 0.0) >= saturated_cpu:
            t = float(r.get("t") or 0.0)
            out = t if out is None else min(out, t)
    return out


def _onset(slo: Slo, ticks: list[dict[str, Any]]) -> float | None:
    """The first second of the earliest two consecutive seconds (one worker's) in which ``slo`` is breached."""
    by_worker: dict[int, list[dict[str, Any]]] = {}
    for r in ticks:
        by_worker.setdefault(int(r.get("worker") or 0), []).append(r)
    out: float | None = None
    for recs in by_worker.values():
        recs.sort(key=lambda r: float(r.get("t") or 0.0))
        dropped, prev = 0, None
        for r in recs:
            dropped += r.get("dropped") or 0
            if holds_now(slo, r, dropped):
                prev = None
                continue
            t = float(r.get("t") or 0.0)
            if prev is not None:
                out = prev if out is None else min(out, prev)
                break
            prev = t
    return out


def breached_first(slos: list[Slo], results: list[dict[str, Any]], ticks: list[dict[str, Any]], *,
                   limited_t: float | None) -> dict[str, str]:
    """The breached SLOs whose breach began before the generator was limited (expr -> why, in words).

    ``limited_t``: the first second the generator was limited (:func:`limited_at`); None (no second shows it)
    orders nothing: a limit the progress cannot place in time leaves every breach uncertain."""
    if limited_t is None:
        return {}
    out = {}
    for slo, r in zip(slos, results, strict=True):
        onset = None if r["ok"] else _onset(slo, ticks)
        if onset is not None and onset < limited_t:
            out[slo.expr] = (f"breached from {onset:g} s, before the generator was limited ({limited_t:g} s): "
                             "the service's breach")
    return out


def split_breaches(slos: list[Slo], results: list[dict[str, Any]], *, service_ratio: float | None,
                   generator_failures: int, limited: bool,
                   first: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """(breaches that make the run FAIL, breaches the generator could have made).

    ``service_ratio``: the service's failures over the requests sent (None: nothing sent);
    ``generator_failures``: failures that may be the generator's (its own side, or timeouts while it was slow);
    ``limited``: the generator limited the test (late, saturated, behind, dropping, a process missing);
    ``first``: breaches that began before the generator was limited (:func:`breached_first`): the service's."""
    first = first or {}
    definite: list[str] = []
    uncertain: list[str] = []
    for slo, r in zip(slos, results, strict=True):
        if r["ok"]:
            continue
        if _service_alone(slo, service_ratio):
            definite.append(breach_text(r) + ": the service's own failures breach it")
        elif slo.expr in first:
            definite.append(f"{breach_text(r)}: {first[slo.expr]}")
        elif limited or (slo.metric == "errors" and generator_failures):
            why = f" ({generator_failures} failed requests may be the generator's)" if slo.metric == "errors" \
                and generator_failures else " (the generator's limit may explain it)"
            uncertain.append(breach_text(r) + why)
        else:
            definite.append(breach_text(r))
    return definite, uncertain


def decide(*, fatal: list[str], definite: list[str], uncertain: list[str],
           limits: list[str]) -> tuple[str, list[str]]:
    """The verdict and its reasons, the deciding ones first.

    fatal (aborted, nothing acknowledged) or a definite breach: FAIL, whatever the generator did; otherwise any
    uncertainty (a breach the generator could have made, a generator limit): INCONCLUSIVE; otherwise PASS."""
    if fatal or definite:
        return FAIL, fatal + definite + uncertain + limits
    if uncertain or limits:
        return INCONCLUSIVE, limits + uncertain
    return PASS, []
