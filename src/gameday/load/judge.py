"""The gate's verdict rule, pure: which SLO breaches the service makes on its own, which the generator could
have made, and the verdict they add up to.

A failure the service caused (an HTTP status outside ``ok``, a refused, reset or dropped connection, a timeout
while the generator kept up) is the service's whatever else went wrong: a breach it alone explains is FAIL even
when the generator was also limited. INCONCLUSIVE is for a run where what breached could be the generator's
doing (latency or throughput while it was late, saturated or dropping; failures on its own side).
"""

from __future__ import annotations

from typing import Any

from gameday.load.slo import Slo
from gameday.verdict import Verdict

__all__ = ["service_failures", "breach_text", "split_breaches", "decide"]

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


def split_breaches(slos: list[Slo], results: list[dict[str, Any]], *, service_ratio: float | None,
                   generator_failures: int, limited: bool) -> tuple[list[str], list[str]]:
    """(breaches that make the run FAIL, breaches the generator could have made).

    ``service_ratio``: the service's failures over the requests sent (None: nothing sent);
    ``generator_failures``: failures that may be the generator's (its own side, or timeouts while it was slow);
    ``limited``: the generator limited the test (late, saturated, behind, dropping, a process missing)."""
    definite: list[str] = []
    uncertain: list[str] = []
    for slo, r in zip(slos, results, strict=True):
        if r["ok"]:
            continue
        if _service_alone(slo, service_ratio):
            definite.append(breach_text(r) + ": the service's own failures breach it")
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
