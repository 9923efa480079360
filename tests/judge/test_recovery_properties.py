"""Property tests of the one recovery model (``gameday.judge.recovery``) and the evidence stream that feeds it
live and offline (``gameday.judge.evidence``): generated probe and load streams, no processes."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.journal import Event
from gameday.judge.evidence import EvidenceStream, stream_recovery
from gameday.judge.recovery import Evidence, RecoveryMachine, State, recovery

T0 = 1000.0
N = 3

# A stream: probes every 0.2 s (each ok or not) and load buckets every 0.1 s (ok or failing), from T0 - 1 s.
outcomes = st.lists(st.booleans(), min_size=5, max_size=80)


def _evidence(probes: list[bool], load: list[bool]) -> list[Evidence]:
    ev = [Evidence(T0 - 1 + 0.2 * i + 0.05, ok, "probe", T0 - 1 + 0.2 * i) for i, ok in enumerate(probes)]
    ev += [Evidence(T0 - 1 + 0.1 * (i + 1), ok, "load", T0 - 1 + 0.1 * i) for i, ok in enumerate(load)]
    return sorted(ev, key=lambda e: e.t)


def _rto(r) -> float:
    return math.inf if r.t_recovered is None else r.t_recovered - T0


windows = st.sampled_from([0.0, 0.5, 2.0, 5.0])


@settings(max_examples=300, deadline=None)
@given(outcomes, outcomes, windows)
def test_a_declared_recovery_never_moves_as_evidence_arrives(probes, load, window):
    ev = _evidence(probes, load)
    final = recovery(ev, T0, N, T0 + window)
    for k in range(len(ev) + 1):
        r = recovery(ev[:k], T0, N, T0 + window)
        if r.recovered:
            assert (final.state, final.t_recovered) == (r.state, r.t_recovered)


@settings(max_examples=300, deadline=None)
@given(outcomes, outcomes, windows)
def test_nothing_recovers_before_an_outage_unless_the_window_passed_clean(probes, load, window):
    ev = _evidence(probes, load)
    r = recovery(ev, T0, N, T0 + window)
    if r.state is State.RECOVERED:
        assert r.t_detect is not None and r.t_recovered is not None and r.t_recovered >= r.t_detect
    if r.state is State.NO_OUTAGE:
        assert r.t_detect is None and r.t_recovered == T0
        counted = [e for e in ev if e.t >= T0 and (e.source != "probe" or (e.started or 0) >= T0)]
        assert all(e.ok for e in counted if e.t < T0 + window)
        assert sum(1 for e in counted if e.source == "probe" and e.ok) >= N


@settings(max_examples=300, deadline=None)
@given(outcomes, outcomes, windows, st.floats(0, 1), st.sampled_from(["probe", "load"]))
def test_more_failures_before_the_recovery_instant_never_shorten_rto(probes, load, window, where, source):
    ev = _evidence(probes, load)
    before = recovery(ev, T0, N, T0 + window)
    if before.t_recovered is None or before.t_recovered <= T0:
        return
    x = T0 + where * (before.t_recovered - T0) * 0.999  # strictly before the recovery instant
    extra = Evidence(x, False, source, x - 0.05)
    after = recovery(sorted([*ev, extra], key=lambda e: e.t), T0, N, T0 + window)
    assert _rto(after) >= _rto(before) - 1e-9


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30), st.integers(0, 20))
def test_a_write_gap_the_load_saw_counts_even_when_every_probe_passed(gap, start):
    """``gap`` failing load buckets of 0.1 s from bucket ``start``: the planned move whose probes never failed."""
    probes = [Evidence(T0 + 0.2 * i + 0.05, True, "probe", T0 + 0.2 * i) for i in range(60)]
    buckets = [Evidence(T0 + 0.1 * (i + 1), not start <= i < start + gap, "load", T0 + 0.1 * i) for i in range(120)]
    r = recovery(sorted(probes + buckets, key=lambda e: e.t), T0, N, T0 + 5.0)
    assert r.state is State.RECOVERED
    assert r.t_recovered - T0 >= 0.1 * (start + gap) - 1e-9  # at least the end of the gap


def test_no_client_visible_outage_is_rto_zero_once_the_window_passed():
    probes = [Evidence(T0 + 0.2 * i + 0.05, True, "probe", T0 + 0.2 * i) for i in range(30)]
    m = RecoveryMachine(T0, N, T0 + 2.0)
    for p in probes[:10]:  # 2 s of clean probes: the fault's effect may still show
        m.feed(p)
    assert m.result().state is State.WATCHING and not m.result().recovered
    assert "no client-visible failure yet" in m.result().why
    for p in probes[10:]:
        m.feed(p)
    assert m.result().state is State.NO_OUTAGE and m.result().t_recovered == T0


def test_a_fault_that_shows_late_is_not_recovered_before_it_broke():
    """The old rule counted successes from T0: a fault whose effect showed 2 s later was 'recovered' at once."""
    ev = [Evidence(T0 + 0.2 * i + 0.05, not (2.0 <= 0.2 * i < 3.0), "probe", T0 + 0.2 * i) for i in range(40)]
    r = recovery(ev, T0, N, T0 + 5.0)
    assert r.t_detect is not None and r.t_detect >= T0 + 2.0
    assert r.state is State.RECOVERED and 3.0 <= r.t_recovered - T0 < 3.3


# ---- the stream: live (incremental, load reported a second late) and offline agree ----------------------

def _events(probes: list[bool], load: list[bool]) -> list[Event]:
    """Journal order: probe events at their end; a load.evidence event each second with that second's buckets."""
    out: list[tuple[float, str, dict]] = []
    for i, ok in enumerate(probes):
        started = T0 - 1 + 0.2 * i
        out.append((started + 0.05, "probe", {"ok": ok, "started": started}))
    for s in range(0, len(load), 10):
        chunk = [[T0 - 1 + 0.1 * (s + k), 10 if ok else 0, 0 if ok else 10, 0] for k, ok in enumerate(load[s:s + 10])]
        out.append((T0 - 1 + 0.1 * (s + len(chunk)) + 0.02, "load.evidence", {"bucket_s": 0.1, "buckets": chunk}))
    out.sort(key=lambda x: x[0])
    return [Event(i, 0, t, kind, "x", value) for i, (t, kind, value) in enumerate(out)]


@settings(max_examples=200, deadline=None)
@given(outcomes, outcomes, windows)
def test_the_live_answer_on_every_prefix_is_the_reports(probes, load, window):
    events = _events(probes, load)
    final = stream_recovery(events, T0, N, T0 + window, ("probe", "load"))
    live = EvidenceStream(RecoveryMachine(T0, N, T0 + window), ("probe", "load"))
    for e in events:
        live.on_event(e)
        r = live.result()
        if r.recovered:
            assert (r.state, r.t_recovered) == (final.state, final.t_recovered)


def test_a_silent_load_stops_holding_the_probes_back():
    live = EvidenceStream(RecoveryMachine(T0, N, T0), ("probe", "load"))
    live.on_event(Event(1, 0, T0 - 0.5, "load.evidence", "load", {"bucket_s": 0.1, "buckets": [[T0 - 0.6, 5, 0, 0]]}))
    for i in range(30):  # probes fail then pass; the load never reports again
        live.on_event(Event(2 + i, 0, T0 + 0.2 * i + 0.05, "probe", "probe", {"ok": i >= 5, "started": T0 + 0.2 * i}))
    assert live.result().state is State.RECOVERED
