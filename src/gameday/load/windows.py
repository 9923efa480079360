"""Windowed SLOs (``p99<500ms over 5m``): a soak's slow drift or leak shows as the window that breached, and when.

The runner folds each second's progress (every worker's second carries its HdrHistogram) into tumbling windows
of the SLO's length, counted from the run's start, and journals each window as it closes (``load.window``: its
span, requests sent, failed, unanswered, and the merged histogram). Memory: the windows still open (two per
length), whatever the run's age. The verdict is judged from those journal events alone (:func:`judge_windowed`),
so ``gameday report`` on the journal says the same.
"""

from __future__ import annotations

from typing import Any

from hdrh.histogram import HdrHistogram

from gameday.load.slo import Slo
from gameday.load.window import new_histogram

__all__ = ["WindowTally", "LOAD_WINDOW", "judge_windowed", "window_value"]

LOAD_WINDOW = "load.window"
SHOWN_BREACHES = 5


class _Open:
    def __init__(self) -> None:
        self.hist = new_histogram()
        self.sent = self.errors = self.indeterminate = 0
        self.seconds: set[int] = set()


class WindowTally:
    """Feed progress records (with their ``hist``) in the order they arrive; ``feed`` and ``close_all`` return
    the windows that closed, as ``load.window`` values."""

    def __init__(self, lengths: set[int]) -> None:
        self.lengths = sorted(lengths)
        self._open: dict[tuple[int, int], _Open] = {}

    def feed(self, rec: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.lengths:
            return []
        sec = max(0, round(float(rec.get("t") or 0.0)) - 1)  # the tick at t ~ 1.0 is the second [0, 1)
        hist = HdrHistogram.decode(rec["hist"]) if rec.get("hist") else None
        closed = []
        for length in self.lengths:
            k = sec // length
            w = self._open.setdefault((length, k), _Open())
            w.sent += rec.get("sent") or 0
            w.errors += rec.get("errors") or 0
            w.indeterminate += rec.get("indeterminate") or 0
            w.seconds.add(sec)
            if hist is not None:
                w.hist.add(hist)
            stale = [key for key in self._open if key[0] == length and key[1] < k - 1]  # workers lag by a second
            closed += [self._close(key) for key in sorted(stale)]
        return closed

    def close_all(self) -> list[dict[str, Any]]:
        return [self._close(key) for key in sorted(self._open)]

    def _close(self, key: tuple[int, int]) -> dict[str, Any]:
        length, k = key
        w = self._open.pop(key)
        n = w.hist.get_total_count()
        return {"over_s": length, "from_s": k * length, "to_s": min((k + 1) * length, max(w.seconds) + 1),
                "sent": w.sent, "errors": w.errors, "indeterminate": w.indeterminate, "acked_requests": n,
                "hist": w.hist.encode().decode() if n else None}


def window_value(slo: Slo, w: dict[str, Any]) -> float | None:
    """The window's figure ``slo`` is about (None: the window measured none: no answer, nothing sent)."""
    if slo.metric == "errors":
        return (w["errors"] + w["indeterminate"]) / w["sent"] if w["sent"] else None
    if not w.get("hist"):
        return None
    h = HdrHistogram.decode(w["hist"])
    v = h.get_max_value() if slo.metric == "max" else h.get_value_at_percentile(float(slo.metric[1:]))
    return round(v / 1000, 3)


def _span(w: dict[str, Any]) -> str:
    return f"{w['from_s']:g}-{w['to_s']:g} s"


def _shown(slo: Slo, v: float) -> str:
    return f"{v * 100:.4g} %" if slo.metric == "errors" else f"{v:g} ms"


def judge_windowed(slo: Slo, windows: list[dict[str, Any]]) -> dict[str, Any]:
    """The SLO's result over its windows: ok when every window that measured the figure holds it; the worst
    window observed, the breached windows named by their span (seconds from the start of the load)."""
    mine = sorted((w for w in windows if w.get("over_s") == slo.over_s), key=lambda w: w["from_s"])
    judged = [(w, v) for w in mine if (v := window_value(slo, w)) is not None]
    out: dict[str, Any] = {"expr": slo.expr, "default": slo.default, "over_s": slo.over_s, "windows": len(mine)}
    if not judged:
        return {**out, "observed": None, "ok": False, "breached_windows": [],
                "shown": f"not measured: no {slo.over_s} s window measured it"}
    breached = [(w, v) for w, v in judged if not slo.holds(v)]
    worse = max if slo.op in ("<", "<=") else min
    worst_w, worst = worse(judged, key=lambda wv: wv[1])
    out.update(observed=worst, ok=not breached,
               breached_windows=[{"from_s": w["from_s"], "to_s": w["to_s"], "observed": v} for w, v in breached])
    if not breached:
        out["shown"] = f"{_shown(slo, worst)} in the worst of {len(judged)} windows ({_span(worst_w)})"
        return out
    first_w, first_v = breached[0]
    named = ", ".join(f"{_span(w)}: {_shown(slo, v)}" for w, v in breached[:SHOWN_BREACHES])
    more = f" and {len(breached) - SHOWN_BREACHES} more" if len(breached) > SHOWN_BREACHES else ""
    out["shown"] = (f"{_shown(slo, first_v)} in the window {_span(first_w)} ({len(breached)} of {len(judged)} "
                    f"windows breached: {named}{more}; worst {_shown(slo, worst)} in {_span(worst_w)})")
    return out
