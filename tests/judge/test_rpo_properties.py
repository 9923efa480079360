"""RPO by gaps, never by maxima (``gameday.judge.rpo``): generated heartbeat and ledger streams, no processes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.journal import Event
from gameday.judge.drill import check
from gameday.judge.rpo import FLOOR_S, heartbeat_rpo, ledger_rpo, lost_split, measure, seq_ranges

T0 = 1000.0


def _heartbeats(before_s: float, after_s: float, interval: float = 0.1) -> dict[int, float]:
    """Every ``interval`` from ``before_s`` before T0 to the last one before T0, then again from T0 + 1 s."""
    n_before = int(before_s / interval)
    acked = {i + 1: T0 - (n_before - i) * interval for i in range(n_before)}
    acked.update({n_before + 1 + i: T0 + 1 + i * interval for i in range(int(after_s / interval))})
    return acked


@settings(max_examples=300, deadline=None)
@given(st.floats(0.2, 5.0), st.floats(0.0, 10.0), st.floats(0.0, 20.0))
def test_a_writer_following_heartbeat_cannot_hide_the_lost_ones(lost_s, written_after_s, before_s):
    """Heartbeats written after recovery reach the new primary; the last ``lost_s`` before T0 did not."""
    acked = _heartbeats(before_s + lost_s, written_after_s)
    present = {s for s, ts in acked.items() if ts < T0 - lost_s or ts > T0}
    rpo, missing = heartbeat_rpo(acked, seq_ranges(present), T0)
    assert missing > 0
    if any(s in present for s, ts in acked.items() if ts <= T0):
        assert lost_s - 1e-6 <= rpo <= lost_s + 0.1 + 1e-6  # never low, one interval high at most, whatever came after
    else:  # every heartbeat before T0 lost: no recovery point known, RPO is at least their span, and says no more
        assert rpo == T0 - min(acked.values())


@settings(max_examples=300, deadline=None)
@given(st.floats(0.15, 3.0), st.floats(0.0, 0.1), st.floats(0.0, 0.1))
def test_the_heartbeats_phase_at_t0_does_not_move_rpo_by_more_than_one_interval(lag_s, phase, ack_s):
    """Heartbeats every 0.1 s, the last one ``phase`` before T0 (its acknowledgement ``ack_s`` later: after T0
    it is never acknowledged); the new primary holds those written before T0 - ``lag_s``."""
    acked = {i + 1: T0 - phase - (60 - i) * 0.1 for i in range(61)}
    acked = {s: ts for s, ts in acked.items() if ts + ack_s <= T0}
    present = {s for s, ts in acked.items() if ts <= T0 - lag_s}
    rpo, missing = heartbeat_rpo(acked, seq_ranges(present), T0)
    assert rpo <= lag_s + 0.1 + 1e-6
    if missing:  # else no acknowledged heartbeat fell in the lag (the one that did was answered after T0): 0
        assert rpo >= lag_s - 1e-6
    else:
        assert rpo == 0 and not [ts for ts in acked.values() if ts > T0 - lag_s]


@settings(max_examples=300, deadline=None)
@given(st.floats(0.15, 3.0), st.floats(0.0, 0.1), st.floats(0.0, 0.01))
def test_beside_the_ledger_rpo_is_the_lost_writes_span_not_one_heartbeat_interval_high(lag_s, hb_phase, w_phase):
    """Writes every 10 ms and heartbeats every 100 ms; the new primary holds what was acknowledged before
    T0 - ``lag_s``. The heartbeat alone bounds RPO one interval high; the ledger's writes are exact to 10 ms."""
    writes = [T0 - w_phase - 0.01 * i for i in range(400)]
    lost = sorted([t, 1] for t in writes if t > T0 - lag_s)
    hb = {i + 1: T0 - hb_phase - (60 - i) * 0.1 for i in range(61)}
    present = seq_ranges(s for s, ts in hb.items() if ts <= T0 - lag_s)
    events = [Event(i + 1, 0, ts, "heartbeat.ack", "t", {"seq": s, "ts": ts}) for i, (s, ts) in enumerate(hb.items())]
    out = measure(events, {"events_lost": len(lost), "lost_acks": lost, "heartbeat_present": present,
                           "last_ack_before_fault_ts": max(writes)}, T0, T0 + 1)
    assert lag_s - 0.02 - 1e-3 <= out["rpo_s"] <= lag_s + 1e-3, out
    assert out["rpo_s"] == max(out["rpo_ledger_s"], out["rpo_heartbeat_s"])  # one span on two streams


def test_the_issue_figure_last_two_seconds_lost_reads_two_seconds_not_zero():
    acked = _heartbeats(30.0, 30.0)
    present = {s for s, ts in acked.items() if ts < T0 - 2.0 or ts > T0}
    rpo, _ = heartbeat_rpo(acked, seq_ranges(present), T0)
    assert 2.0 <= rpo <= 2.1 + 1e-6
    # the old rule (difference of maxima) read 0 here: the newest present heartbeat is newer than the last acked
    assert max(ts for s, ts in acked.items() if s in present) > max(ts for ts in acked.values() if ts <= T0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-5.0, 5.0, allow_nan=False), min_size=1, max_size=50), st.floats(-5.0, 0.0))
def test_the_ledger_span_covers_every_lost_write_before_or_after_t0(offsets, last_before):
    times = sorted(round(T0 + o, 3) for o in offsets)
    lost_acks = [[t, 1] for t in times]
    span = ledger_rpo(lost_acks, T0 + last_before)
    assert span is not None and span >= times[-1] - times[0] - 1e-9
    split = lost_split(lost_acks, T0, T0 + 2.0)
    assert sum(split.values()) == len(times)
    assert split["before_fault"] == sum(1 for t in times if t <= T0)
    assert split["after_recovery"] == sum(1 for t in times if t >= T0 + 2.0)


def test_lost_writes_are_never_an_rpo_of_zero_and_the_floor_says_why():
    out = measure([], {"events_lost": 1, "lost_acks": [[T0 - 0.01, 1]], "last_ack_before_fault_ts": T0 - 0.01,
                       "heartbeat_present": []}, T0, T0 + 1)
    assert out["rpo_s"] == FLOOR_S and "floor" in out["rpo_note"]
    clean = measure([], {"events_lost": 0, "lost_acks": [], "heartbeat_present": []}, T0, T0 + 1)
    assert clean["rpo_s"] == 0.0 and "rpo_note" not in clean


def _journal(*, end: bool = True) -> list[Event]:
    evs: list[Event] = []

    def add(kind: str, t: float, **value) -> None:
        evs.append(Event(len(evs) + 1, 0, t, kind, "test", value))

    add("drill.start", T0 - 5, drill="d", run_id="r", environment="local", time_scale=1.0, probe_consecutive=2,
        declare_step=None, targets={"rto_s": 60, "rpo_s": 5, "lost_events_max": None}, steps=[],
        evidence_sources=["probe", "load"])
    for i in range(40):  # heartbeats every 0.1 s until T0; all but the last 2 s reach the new primary
        add("heartbeat.ack", T0 - 4 + 0.1 * i, seq=i + 1, ts=T0 - 4 + 0.1 * i)
    add("fault.applied", T0, t_applied=T0, effect_within_s=0.5)
    for i in range(20):
        add("probe", T0 + 0.2 * i + 0.05, ok=not 1 <= i < 5, started=T0 + 0.2 * i)
    add("reconcile", T0 + 5, events_acked=100, events_lost=3, events_indeterminate=0, events_unexpected=0,
        indeterminate_present=0, heartbeat_present=[[1, 20]], settle_s=0.0, last_ack_before_fault_ts=T0 - 0.01,
        lost_acks=[[T0 - 0.05, 1], [T0 + 0.5, 1], [T0 + 2.0, 1]])
    if end:
        add("drill.end", T0 + 6, aborted=False, reason=None)
    return evs


def test_the_report_splits_lost_writes_and_names_the_pipeline():
    from gameday.report.words import rpo_sentence

    s = check(_journal())
    # beside the ledger the heartbeat's figure is the same span (its missing ones to its last before T0)
    assert s["rpo_heartbeat_s"] == 1.9 and s["rpo_ledger_s"] == 2.05 and s["rpo_s"] == 2.05  # the larger
    assert s["lost_split"] == {"before_fault": 1, "during_outage": 1, "after_recovery": 1}
    text = rpo_sentence(s)
    assert "possibly still in the service's pipeline" in text and "settle_s" in text
    assert "1 acknowledged before the fault" in text


def test_a_killed_run_is_aborted_and_incomplete_with_what_it_measured():
    s = check(_journal(end=False))
    assert s["verdict"] == "aborted" and s["incomplete"] is True
    assert any("without drill.end" in r for r in s["reasons"])
    assert s["rto_s"] is not None and s["events_lost"] == 3
