"""The gate's verdict rule, pure: which SLO breaches the service makes on its own, which the generator could
have made, and the verdict they add up to.

A failure the service caused (an HTTP status outside ``ok``, a refused, reset or dropped connection, a timeout
while the generator kept up) is the service's whatever else went wrong: a breach it alone explains is FAIL even
when the generator was also limited. INCONCLUSIVE is for a run where what breached could be the generator's
doing (latency or throughput while it was late, saturated or dropping; failures on its own side).

The evidence is ordered in time (:func:`breached_first`): an SLO the per-second progress shows breached for two
seconds in a row *before* the first second the generator was limited is the service's breach (past a service's
knee its queue grows, so does latency, and an open model's connections, rate x latency, then run into the
generator's cap: the cap came second). A latency figure that, less the most the generator could have added to
one request (:func:`beyond_generator`), still breaches is the service's breach too.
"""

from __future__ import annotations

from typing import Any

from gameday.load.limits import holds_now
from gameday.load.slo import Slo
from gameday.verdict import Verdict

__all__ = ["service_failures", "limited_now", "breach_text", "split_breaches", "beyond_generator", "decide",
           "limited_at", "breached_first", "TickFilter"]

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


def limited_now(r: dict[str, Any], late_share: float, saturated_cpu: float) -> bool:
    """Whether the generator limited one second (progress record ``r``): more than ``late_share`` of the
    requests answered in it started late, it dropped arrivals, or its CPU was saturated."""
    sent = r.get("sent") or 0
    return bool((sent and (r.get("late") or 0) / sent > late_share) or (r.get("dropped") or 0)
                or (r.get("cpu_percent") or 0.0) >= saturated_cpu)


def limited_at(ticks: list[dict[str, Any]], *, late_share: float, saturated_cpu: float) -> float | None:
    """The first second (progress ``t``) the generator was limited: more than ``late_share`` of that second's
    requests started late, it dropped any, or its CPU was saturated; None: no second shows it."""
    out: float | None = None
    for r in ticks:
        if limited_now(r, late_share, saturated_cpu):
            t = float(r.get("t") or 0.0)
            out = t if out is None else min(out, t)
    return out


_JUDGED = ("worker", "t", "target_rate", "sent", "acked_events", "errors", "indeterminate", "late", "dropped",
           "cpu_percent", "p50_ms", "p95_ms", "p99_ms", "max_ms")


class TickFilter:
    """The per-second progress reduced, as it streams, to the seconds the time-ordering rule can use: those the
    generator was limited in or an SLO was breached in (each with its place ``n`` in its worker's seconds, so
    consecutive seconds stay known), and only the figures the rule reads. A healthy run keeps nothing: memory
    does not grow with the run's age (``gameday report`` on a day-long soak's journal)."""

    def __init__(self, slos: list[Slo], *, late_share: float, saturated_cpu: float) -> None:
        self.slos, self.late_share, self.saturated_cpu = slos, late_share, saturated_cpu
        self.seen: dict[int, int] = {}
        self.dropped = 0

    def keep(self, rec: dict[str, Any]) -> dict[str, Any] | None:
        w = int(rec.get("worker") or 0)
        n = int(rec["n"]) if "n" in rec else self.seen.get(w, 0)  # filtered once already: its place stays
        self.seen[w] = n + 1
        self.dropped += rec.get("dropped") or 0
        if limited_now(rec, self.late_share, self.saturated_cpu) or \
                not all(holds_now(s, rec, self.dropped) for s in self.slos):
            return {**{k: rec.get(k) for k in _JUDGED}, "n": n}
        return None


def _onset(slo: Slo, ticks: list[dict[str, Any]]) -> float | None:
    """The first second of the earliest two consecutive seconds (one worker's) in which ``slo`` is breached."""
    by_worker: dict[int, list[dict[str, Any]]] = {}
    for r in ticks:
        by_worker.setdefault(int(r.get("worker") or 0), []).append(r)
    out: float | None = None
    for recs in by_worker.values():
        recs.sort(key=lambda r: float(r.get("t") or 0.0))
        dropped, prev, prev_n = 0, None, -1
        for k, r in enumerate(recs):
            dropped += r.get("dropped") or 0
            n = int(r.get("n", k))  # the second's place among its worker's (a filtered list keeps it: TickFilter)
            if holds_now(slo, r, dropped):
                prev = None
                continue
            t = float(r.get("t") or 0.0)
            if prev is not None and n == prev_n + 1:
                out = prev if out is None else min(out, prev)
                break
            prev, prev_n = t, n
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


def beyond_generator(slo: Slo, result: dict[str, Any], added_ms: float | None) -> str | None:
    """Why a latency breach is the service's whatever the generator did: less the most the generator could have
    added to a request (``added_ms``: ``gameday.load.summary``), the figure still breaches; None otherwise."""
    obs = result.get("observed")
    if added_ms is None or obs is None or not (slo.metric.startswith("p") or slo.metric == "max"):
        return None
    if slo.holds(obs - added_ms):
        return None
    return (f"less the most the generator could have added to a request ({added_ms:g} ms: its start delays and "
            f"reads) it still reads {obs - added_ms:.4g} ms: the service's breach")


def split_breaches(slos: list[Slo], results: list[dict[str, Any]], *, service_ratio: float | None,
                   generator_failures: int, limited: bool, first: dict[str, str] | None = None,
                   added_ms: float | None = None) -> tuple[list[str], list[str]]:
    """(breaches that make the run FAIL, breaches the generator could have made).

    ``service_ratio``: the service's failures over the requests sent (None: nothing sent);
    ``generator_failures``: failures that may be the generator's (its own side, or timeouts while it was slow);
    ``limited``: the generator limited the test (late, saturated, behind, dropping, a process missing);
    ``first``: breaches that began before the generator was limited (:func:`breached_first`): the service's;
    ``added_ms``: the most the generator could have added to a request's latency (:func:`beyond_generator`)."""
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
        elif limited and (beyond := beyond_generator(slo, r, added_ms)):
            definite.append(f"{breach_text(r)}: {beyond}")
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
