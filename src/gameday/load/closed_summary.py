"""Judge a closed-model run (a locustfile written the plain Locust way) from Locust's own statistics:
a pure function of closed.json (``gameday.load.closed``). No ``locust`` import here."""

from __future__ import annotations

from typing import Any

from gameday.load.judge import decide, split_breaches
from gameday.load.slo import Slo, evaluate

__all__ = ["summarize_closed", "locust_percentile", "CLOSED_NOTE"]

CLOSED_NOTE = ("closed-model run (a locustfile written the plain Locust way): each Locust user waits for an answer "
               "before its next request, so the rate follows the service and latency excludes queueing at the "
               "client; percentiles from Locust's response-time buckets (2 significant digits), acknowledged "
               "requests only")


def locust_percentile(response_times: dict[str, int], num_requests: int, percent: float) -> int:
    """Locust's own ``calculate_response_time_percentile`` (locust/stats.py), on closed.json's buckets."""
    num_of_request = int(num_requests * percent)
    processed = 0
    for rt in sorted((int(k) for k in response_times), reverse=True):
        processed += response_times[str(rt)]
        if num_requests - processed <= num_of_request:
            return rt
    return 0


def _errors(result: dict[str, Any]) -> list[str]:
    errs = sorted(result.get("errors", []), key=lambda e: -e["occurrences"])
    return [f"{e['occurrences']} x {e['method']} {e['name']}: {e['error']}" for e in errs[:5]]


def summarize_closed(result: dict[str, Any] | None, *, target_rate: float, duration_s: float, slos: list[Slo],
                     locust_said: list[str], workers: int = 1) -> dict[str, Any]:
    """summary.json for a closed-model run; ``result`` None when Locust left no statistics. With ``workers`` > 1
    the statistics are Locust's master's, aggregated over its workers."""
    total = (result or {}).get("total", {})
    acked = (result or {}).get("acked", {})
    sent, ok = total.get("num_requests", 0), acked.get("num_requests", 0)
    wanted = {50.0, 95.0, 99.0, 99.9} | {float(s.metric[1:]) for s in slos if s.metric.startswith("p")}
    pct = {f"{q:g}": float(locust_percentile(acked["response_times"], ok, q / 100)) for q in sorted(wanted)} if ok else {}
    achieved = ok / max(duration_s, 1e-9)
    s: dict[str, Any] = {
        "model": "closed", "notes": [CLOSED_NOTE], "target_rate": target_rate, "batch": 1, "duration_s": duration_s,
        "steady_window_s": [0.0, duration_s], "achieved_rate": round(achieved, 2),
        "achieved_ratio": round(achieved / target_rate, 4) if target_rate else None,
        "events_per_s": round(achieved, 2), "requests_sent": sent, "events_acked": ok,
        "p50_ms": pct.get("50"), "p95_ms": pct.get("95"), "p99_ms": pct.get("99"), "percentiles_ms": pct,
        "max_ms": float(acked["max_response_time"]) if ok else None,
        "error_ratio": round(total.get("num_failures", 0) / sent, 6) if sent else None,
        "errors": total.get("num_failures", 0), "indeterminate": 0, "late": None, "late_ratio": None, "dropped": 0,
        "users": (result or {}).get("users"), "locust_errors": _errors(result or {}),
        "locust_said": locust_said if result is None else [],  # with statistics, its error table is locust_errors
        "generator": {"processes": workers, "cpu_percent_avg": [], "max_schedule_lag_s": 0.0},
        "workers": workers, "workers_reported": (result or {}).get("workers_reported") if workers > 1 else None,
    }
    if workers > 1:
        s["notes"].append(f"Locust's distributed mode: a master and {workers} workers on this machine; the figures "
                          "are the master's statistics, aggregated over the workers")
    s["slos"] = evaluate(slos, s)
    s["verdict"], s["reasons"] = _verdict(s, slos, result, locust_said)
    return s


def _verdict(s: dict[str, Any], slos: list[Slo], result: dict[str, Any] | None,
             locust_said: list[str]) -> tuple[str, list[str]]:
    sent, ok = s["requests_sent"], s["events_acked"]
    judged = [(slo, x) for slo, x in zip(slos, s["slos"], strict=True) if x["observed"] is not None]
    limits = [f"{x['expr']} cannot be judged in a closed-model run" for x in s["slos"] if x["observed"] is None and ok]
    if result is None:
        limits.append("Locust left no statistics" + (f": {locust_said[-1]}" if locust_said else ""))
    elif result.get("cpu_warning"):
        limits.append("the generator saturated its CPU (Locust's own warning): add --workers (Locust's "
                      "distributed mode), use fewer --users, or a bigger machine")
    workers = s["workers"]
    if result is not None and workers > 1 and result.get("workers_reported", workers) < workers:
        limits.append(f"only {result.get('workers_reported')} of {workers} Locust workers reported statistics")
    if not sent and result is not None:
        limits.append("Locust sent no request")
    # Locust's failures are the service's answers or refusals, but a timeout may be a saturated generator's
    maybe_ours = sum(e["occurrences"] for e in (result or {}).get("errors", []) if "timeout" in e["error"].lower()) \
        if (result or {}).get("cpu_warning") else 0
    service = max(0, s["errors"] - maybe_ours)
    definite, uncertain = split_breaches([j[0] for j in judged], [j[1] for j in judged],
                                         service_ratio=service / sent if sent else None,
                                         generator_failures=s["errors"] - service, limited=bool(limits))
    fatal = []
    if sent and not ok:
        fatal = ["nothing acknowledged: no request got a success status from the service",
                 *[f"Locust: {e}" for e in s["locust_errors"][:3]]]
    return decide(fatal=fatal, definite=definite, uncertain=uncertain, limits=limits)
