"""``gameday report`` on a long gate's journal streams it (fast, no processes): the journal is read a line at a
time (a torn last line ignored, a bad line elsewhere named), only the seconds the time-ordering rule can use are
kept, and that reduction never changes which breach came first."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.errors import ConfigError
from gameday.journal import iter_journal
from gameday.load.gate import summary_from_journal
from gameday.load.judge import TickFilter, breached_first, limited_at
from gameday.load.slo import parse_slo
from gameday.load.summary import LATE_SHARE, SATURATED_CPU
from gameday.load.window import new_histogram

SLOS = [parse_slo("p95<100ms"), parse_slo("errors<5%"), parse_slo("dropped<3")]


def _line(seq: int, kind: str, value: dict) -> str:
    return json.dumps({"seq": seq, "t_mono_ns": 0, "t_wall": 1.7e9 + seq, "kind": kind, "actor": "load",
                       "value": value, "error": None}) + "\n"


def test_a_torn_last_line_is_ignored_and_a_bad_line_elsewhere_is_named(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text(_line(1, "gate.start", {}) + _line(2, "gate.end", {}) + '{"seq": 3, "t_mo')
    assert [e.kind for e in iter_journal(path)] == ["gate.start", "gate.end"]
    path.write_text(_line(1, "gate.start", {}) + "not json\n" + _line(3, "gate.end", {}))
    with pytest.raises(ConfigError, match="line 2 is not a journal event"):
        list(iter_journal(path))


@st.composite
def seconds(draw):
    """Two workers' seconds: mostly healthy, some slow, failing, late, dropping or CPU-bound."""
    out = []
    for t in range(1, draw(st.integers(2, 40)) + 1):
        for w in (0, 1):
            kind = draw(st.sampled_from(["ok"] * 5 + ["slow", "errors", "late", "dropped", "cpu"]))
            out.append({"worker": w, "t": t + w * 0.01, "target_rate": 100.0, "sent": 100, "acked_events": 100,
                        "errors": 10 if kind == "errors" else 0, "indeterminate": 0,
                        "late": 50 if kind == "late" else 0, "dropped": 2 if kind == "dropped" else 0,
                        "cpu_percent": 99.0 if kind == "cpu" else 20.0, "p50_ms": 5.0,
                        "p95_ms": 300.0 if kind == "slow" else 8.0, "p99_ms": 9.0, "max_ms": 10.0,
                        "evidence": [[1.7e9, 10, 0, 0]] * 10})
    return out


@settings(max_examples=150, deadline=None)
@given(seconds())
def test_keeping_only_the_seconds_that_matter_never_changes_which_breach_came_first(ticks):
    keep = TickFilter(SLOS, late_share=LATE_SHARE, saturated_cpu=SATURATED_CPU)
    kept = [k for r in ticks if (k := keep.keep(r)) is not None]
    results = [{"expr": s.expr, "ok": False} for s in SLOS]
    whole = limited_at(ticks, late_share=LATE_SHARE, saturated_cpu=SATURATED_CPU)
    assert limited_at(kept, late_share=LATE_SHARE, saturated_cpu=SATURATED_CPU) == whole
    assert breached_first(SLOS, results, kept, limited_t=whole) == breached_first(SLOS, results, ticks, limited_t=whole)
    again = TickFilter(SLOS, late_share=LATE_SHARE, saturated_cpu=SATURATED_CPU)
    assert [again.keep(r) for r in kept] == kept, "filtering twice (the run, then its summary) changes nothing"


def _part(seconds: int) -> dict:
    h = new_histogram()
    h.record_value(8000, 100 * seconds)
    counts = {"sent": 100 * seconds, "acked_events": 100 * seconds, "steady_acked_events": 100 * seconds}
    return {"counts": counts, "steady_hist": h.encode().decode(), "steady_window_s": [0, seconds],
            "max_schedule_lag_s": 0.0, "cpu_percent": [20.0], "max_connections": 500, "peak_connections": 5}


def _judged_peak(path, seconds: int) -> tuple[int, int]:
    """(peak traced memory judging a healthy gate's journal of ``seconds`` ticks, the journal's size)."""
    tick = {"worker": 0, "target_rate": 100.0, "sent": 100, "acked_events": 100, "errors": 0, "indeterminate": 0,
            "late": 0, "dropped": 0, "cpu_percent": 20.0, "p50_ms": 5.0, "p95_ms": 8.0, "p99_ms": 9.0,
            "max_ms": 10.0, "evidence": [[1.7e9, 10, 0, 0]] * 10, "latency_buckets": [0] * 14}
    with open(path, "w") as f:
        f.write(_line(1, "gate.start", {"rate": 100.0, "duration": seconds, "slos": ["p95<100ms"]}))
        f.writelines(_line(t + 1, "load.tick", {**tick, "t": float(t)}) for t in range(1, seconds + 1))
        f.write(_line(seconds + 2, "load.result", {"kind": "engine", "aborted": None, "parts": [_part(seconds)]}))
        f.write(_line(seconds + 3, "gate.end", {}))
    tracemalloc.start()
    s = summary_from_journal(iter_journal(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert s["verdict"] == "pass" and s["achieved_rate"] == 100.0, s["reasons"]
    return peak, path.stat().st_size


def test_a_long_healthy_gates_journal_is_judged_in_memory_that_does_not_grow_with_it(tmp_path):
    short, _ = _judged_peak(tmp_path / "short.jsonl", 300)
    long, size = _judged_peak(tmp_path / "long.jsonl", 3000)
    assert long < short * 1.3 and long < size / 4, f"peak {short} -> {long} bytes for a 10x longer journal ({size} B)"


def test_a_days_timeline_is_downsampled_to_720_points_keeping_a_one_second_spike():
    from gameday.report.load import MAX_POINTS, Timeline, load_html

    day = Timeline(86400.0)
    for t in range(1, 86401):
        day.add({"t": float(t), "target_rate": 100.0, "acked_events": 100, "p95_ms": 900.0 if t == 40000 else 5.0,
                 "p99_ms": 9.0, "errors": 0, "indeterminate": 0})
    buckets, width = day.buckets()
    assert len(buckets) <= MAX_POINTS and width == 121
    assert all(b["acked"] == 100.0 for b in buckets.values()), "a rate is averaged per second of its bucket"
    assert max(b["p95"] for b in buckets.values()) == 900.0 and buckets[40000 // 121 * 121]["p95"] == 900.0
    html = load_html({"verdict": "pass", "duration_s": 86400, "slos": [], "reasons": []}, day)
    assert len(html) < 100_000 and "each point: 121 s" in html
