"""Merge the load engine's results and judge them: a pure function of the result files' content."""

from __future__ import annotations

from typing import Any

from hdrh.histogram import HdrHistogram

from gameday.load.judge import breached_first, decide, limited_at, service_failures, split_breaches
from gameday.load.slo import Slo, evaluate
from gameday.load.window import LATE_S, added_ms, new_histogram
from gameday.load.windows import judge_windowed
from gameday.verdict import Verdict

__all__ = ["summarize", "merge_histograms", "PASS", "FAIL", "INCONCLUSIVE", "SATURATED_CPU"]

PASS, FAIL, INCONCLUSIVE = Verdict.PASS.value, Verdict.FAIL.value, Verdict.INCONCLUSIVE.value
SATURATED_CPU = 90.0  # percent of one core, averaged over the run, per generator process
BEHIND_S = 0.25  # the scheduler itself woke this late: the generator fell behind its schedule
LATE_SHARE = 0.05  # more requests than this started > LATE_S after their intended time: the generator limited the test


def merge_histograms(encoded: list[str]) -> HdrHistogram:
    total = new_histogram()
    for e in encoded:
        total.add(HdrHistogram.decode(e))
    return total


def _pct_key(q: float) -> str:
    return f"{q:g}"


def _add_counts(parts: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in parts:
        for k, v in p["counts"].items():
            counts[k] = counts.get(k, 0) + v
    return counts


def _figures(parts: list[dict[str, Any]], counts: dict[str, int], steady: HdrHistogram, *, target_rate: float,
             duration_s: float, batch: int, slos: list[Slo]) -> dict[str, Any]:
    lo, hi = parts[0]["steady_window_s"] if parts else (0.0, duration_s)
    window = max(1e-9, hi - lo)
    wanted = {50.0, 95.0, 99.0, 99.9} | {float(s.metric[1:]) for s in slos if s.metric.startswith("p")}
    n = steady.get_total_count()
    pct = {_pct_key(q): round(steady.get_value_at_percentile(q) / 1000, 3) for q in sorted(wanted)} if n else {}
    sent = counts.get("sent", 0)
    achieved = counts.get("steady_acked_events", 0) / window
    cpu = [sum(p["cpu_percent"]) / len(p["cpu_percent"]) for p in parts if p["cpu_percent"]]
    return {
        "target_rate": target_rate, "batch": batch, "duration_s": duration_s, "steady_window_s": [lo, hi],
        "achieved_rate": round(achieved, 2), "achieved_ratio": round(achieved / target_rate, 4) if target_rate else None,
        "events_per_s": round(counts.get("acked_events", 0) / max(duration_s, 1e-9), 2),
        "requests_sent": sent, "events_acked": counts.get("acked_events", 0),
        "p50_ms": pct.get("50"), "p95_ms": pct.get("95"), "p99_ms": pct.get("99"), "percentiles_ms": pct,
        "max_ms": round(steady.get_max_value() / 1000, 3) if n else None,
        "error_ratio": round((counts.get("errors", 0) + counts.get("indeterminate", 0)) / sent, 6) if sent else None,
        "errors": counts.get("errors", 0), "indeterminate": counts.get("indeterminate", 0),
        "late": counts.get("late", 0), "late_ratio": round(counts.get("late", 0) / sent, 6) if sent else None,
        "dropped": counts.get("dropped", 0),
        "failed_by": {k: counts.get(k, 0) for k in ("http_errors", "refused", "timeouts")},
        "generator": {"processes": len(parts), "cpu_percent_avg": [round(c, 1) for c in cpu],
                      "max_schedule_lag_s": max((p["max_schedule_lag_s"] for p in parts), default=0.0),
                      "added_ms": _added_ms(parts, target_rate=target_rate, batch=batch)},
    }


def summarize(parts: list[dict[str, Any]], *, target_rate: float, duration_s: float, batch: int,
              slos: list[Slo], aborted: str | None = None, expected_parts: int = 1,
              top: list[dict[str, Any]] | None = None, windows: list[dict[str, Any]] | None = None,
              ticks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """summary.json: figures, SLO results and the verdict (PASS / FAIL / INCONCLUSIVE) with reasons
    (``gameday.load.judge``); ``top``: the most frequent failure reasons (``gameday.reasons.top_reasons``);
    ``windows``: the run's ``load.window`` values, on which the windowed SLOs are judged; ``ticks``: the
    per-second progress, which orders breaches and generator limits in time."""
    counts = _add_counts(parts)
    steady = merge_histograms([p["steady_hist"] for p in parts])  # acknowledged requests only
    s = _figures(parts, counts, steady, target_rate=target_rate, duration_s=duration_s, batch=batch, slos=slos)
    s["slos"] = [judge_windowed(slo, windows or []) if slo.over_s else r
                 for slo, r in zip(slos, evaluate(slos, s), strict=True)]
    s["failure_reasons"] = top or []
    cpu, lag = s["generator"]["cpu_percent_avg"], s["generator"]["max_schedule_lag_s"]
    limits = [f"only {len(parts)} of {expected_parts} generator processes reported results"] \
        if len(parts) < expected_parts else []
    limits += _generator_limits(parts, cpu, lag, s)
    if not steady.get_total_count():
        limits.append("no request was measured in the steady window")
    sent, failed = s["requests_sent"], s["errors"] + s["indeterminate"]
    service = min(failed, service_failures(counts, generator_slow=_slow(cpu, lag)))
    s["service_failures"], s["generator_failures"] = service, failed - service
    first = breached_first(slos, s["slos"], ticks or [], limited_t=limited_at(
        ticks or [], late_share=LATE_SHARE, saturated_cpu=SATURATED_CPU)) if limits else {}
    definite, uncertain = split_breaches(slos, s["slos"], service_ratio=service / sent if sent else None,
                                         generator_failures=failed - service, limited=bool(limits), first=first,
                                         added_ms=s["generator"]["added_ms"])
    fatal = [f"aborted early: {aborted}"] if aborted else []
    if sent and not s["events_acked"]:  # whatever the latency says: nothing the service accepted
        most = f" (most often: {top[0]['reason']})" if top else ""
        fatal.insert(0, f"nothing acknowledged: no request got a success status from the service{most}")
    s["verdict"], s["reasons"] = decide(fatal=fatal, definite=definite, uncertain=uncertain, limits=limits)
    return s


def _added_ms(parts: list[dict[str, Any]], *, target_rate: float, batch: int) -> float | None:
    """The most the generator could have added to one request's latency (ms, ``gameday.load.window.added_ms``),
    or None (not known: results without start delays, or no rate)."""
    delays = [float(p["max_start_delay_s"]) for p in parts if p.get("max_start_delay_s") is not None]
    if not parts or not target_rate or len(delays) < len(parts):
        return None
    return added_ms(delays, max(batch / (target_rate * (p.get("share") or 1.0 / len(parts))) for p in parts))


def _slow(cpu: list[float], lag: float) -> bool:
    """The generator may have read answers late: its timeouts are not evidence against the service."""
    return any(c >= SATURATED_CPU for c in cpu) or lag > BEHIND_S


def _generator_limits(parts: list[dict[str, Any]], cpu: list[float], lag: float, s: dict[str, Any]) -> list[str]:
    """Why the generator, not the service, may have shaped the figures (each makes the run INCONCLUSIVE)."""
    out = []
    if any(c >= SATURATED_CPU for c in cpu):
        out.append(f"the generator saturated its CPU ({max(cpu):.0f} % of a core)")
    if lag > BEHIND_S:
        out.append(f"the generator fell behind its schedule by {lag:.2f} s")
    late = _limited(parts, s["late_ratio"])
    if late:
        out.append(late)
    if s["dropped"]:
        out.append(f"the generator dropped {s['dropped']} requests (queue full)")
    return out


def _limited(parts: list[dict[str, Any]], late_ratio: float | None) -> str | None:
    """Why a significant share of requests started late, naming the connection cap when it was reached."""
    if not late_ratio or late_ratio <= LATE_SHARE:
        return None
    capped = [p for p in parts if p.get("max_connections") and p.get("peak_connections", 0) >= p["max_connections"]]
    why = (f"all {capped[0]['max_connections']} connections per process (--max-connections) were busy; an open "
           "model needs rate x latency requests in flight: raise --max-connections or add --workers") if capped \
        else "the generator could not keep to its schedule: add --workers"
    return (f"the generator limited the test: {late_ratio:.0%} of requests started more than {LATE_S * 1000:g} ms "
            f"late ({why})")
