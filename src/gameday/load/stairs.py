"""Per-stair verdicts for a step shape: each stair judged by the gate's own rules, not only the last.

The engine counts a step shape's requests by the stair they were intended in (``engine.StairTally``: counts, a
histogram of acknowledged latency, the CPU samples, schedule lag and peak connections of its seconds), so each
stair is a part of its own. :func:`judge_stairs` runs :func:`gameday.load.summary.summarize` on each stair (the
same SLOs and defaults against the stair's own rate, the same generator limits and time-ordering rule over the
stair's seconds; a windowed SLO on the windows that lie inside the stair), and :func:`with_stairs` folds the
stairs into the gate's verdict: a stair the service failed fails the gate, whichever stair it was; a stair the
generator limited makes a passing gate INCONCLUSIVE. Pure: a function of the journal's parts, windows and ticks.
"""

from __future__ import annotations

from typing import Any

from gameday.load.slo import Slo
from gameday.load.summary import summarize
from gameday.verdict import Verdict

__all__ = ["judge_stairs", "with_stairs"]

PASS, FAIL, INCONCLUSIVE = Verdict.PASS.value, Verdict.FAIL.value, Verdict.INCONCLUSIVE.value
_RANK = {PASS: 0, INCONCLUSIVE: 1, FAIL: 2}
_KEYS = ("achieved_rate", "achieved_ratio", "p50_ms", "p95_ms", "p99_ms", "max_ms", "error_ratio", "late_ratio",
         "dropped", "requests_sent")


def _stair_parts(parts: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    return [{**p["stairs"][k], "max_connections": p.get("max_connections"), "worker": p.get("worker"),
             "share": p.get("share")}
            for p in parts if len(p.get("stairs") or []) > k]


def judge_stairs(parts: list[dict[str, Any]], *, slos: list[Slo], batch: int, expected_parts: int,
                 windows: list[dict[str, Any]], ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per stair (none when the shape has no stairs): its figures, SLO results, verdict and reasons;
    a stair no request was intended in (the run ended first) has no verdict."""
    n = max((len(p.get("stairs") or []) for p in parts), default=0)
    rows = []
    for k in range(n):
        mine = _stair_parts(parts, k)
        lo, hi, rate = mine[0]["from_s"], mine[0]["to_s"], mine[0]["rate"]
        row: dict[str, Any] = {"stair": k + 1, "of": n, "from_s": lo, "to_s": hi, "target_rate": rate}
        if not sum(m["counts"]["sent"] + m["counts"]["dropped"] for m in mine):
            rows.append({**row, "verdict": None, "slos": [],
                         "reasons": ["not reached: no request was intended in this stair (the run ended first)"]})
            continue
        inside = [w for w in windows if w["from_s"] >= lo and w["to_s"] <= hi]
        judged = [x for x in slos if not x.over_s or any(w["over_s"] == x.over_s for w in inside)]
        s = summarize(mine, target_rate=rate, duration_s=hi - lo, batch=batch, slos=judged,
                      expected_parts=expected_parts, windows=inside,
                      ticks=[t for t in ticks if lo < float(t.get("t") or 0.0) <= hi + 0.5])
        skipped = [f"{x.expr}: no {x.over_s:g} s window lies inside this stair (judged on the whole run only)"
                   for x in slos if x not in judged]
        rows.append({**row, **{key: s.get(key) for key in _KEYS}, "verdict": s["verdict"],
                     "reasons": s["reasons"], "notes": skipped,
                     "slos": [{"expr": r["expr"], "ok": r["ok"], "shown": r.get("shown")} for r in s["slos"]]})
    return rows


def _named(r: dict[str, Any]) -> str:
    return (f"stair {r['stair']} of {r['of']} ({r['target_rate']:g} events/s, {r['from_s']:g}-{r['to_s']:g} s) was "
            f"{r['verdict'].upper()}: " + "; ".join(r["reasons"][:2]))


def with_stairs(s: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The gate's summary with its stairs: the verdict the worst of its own and every stair's; a stair that is
    not PASS is named in the reasons (the last one only when it differs from the gate's own judgement of its
    steady window, which is that stair)."""
    s["stairs"] = rows
    own = s["verdict"]
    bad = [r for r in rows if r["verdict"] not in (None, PASS) and not (r is rows[-1] and r["verdict"] == own)]
    if not bad:
        return s
    worst = max((r["verdict"] for r in bad), key=lambda v: _RANK.get(v, 0))
    named = [_named(r) for r in sorted(bad, key=lambda r: -_RANK.get(r["verdict"], 0))]
    if _RANK.get(worst, 0) > _RANK.get(own, 0):
        s["verdict"], s["reasons"] = worst, named + s["reasons"]
    else:
        s["reasons"] = s["reasons"] + named
    return s
