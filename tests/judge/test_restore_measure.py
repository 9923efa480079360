"""A restore drill's figures and the backup validation's verdict (``gameday.judge.restore``): pure functions of
the journal, checked over generated ledgers; no processes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.journal import Event
from gameday.judge.restore import BUCKETS, check_restore_test, restore_measure, restore_targets, split_missing

T0 = 1000.0
acks = st.lists(st.tuples(st.floats(900.0, 1100.0, allow_nan=False), st.integers(1, 5)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(acks, st.floats(900.0, 1000.0), st.one_of(st.none(), st.floats(1000.0, 1100.0)))
def test_every_missing_event_lands_in_exactly_the_bucket_its_ack_time_says(lost, point, t_swap):
    lost_acks = [[round(t, 3), n] for t, n in lost]
    out = split_missing(lost_acks, point, t_swap)
    assert sum(out[b]["events"] for b in BUCKETS) == sum(n for _, n in lost_acks)  # none dropped, none twice
    before = sum(n for t, n in lost_acks if t <= point)
    after_swap = sum(n for t, n in lost_acks if t_swap is not None and t > t_swap)
    assert out["before_restore_point"]["events"] == before  # a backup defect: at or before the restore point
    assert out["after_swap"]["events"] == after_swap
    for b in BUCKETS:  # a bucket's span lies inside its own window of time
        o = out[b]
        assert o["span_s"] >= 0
        if o["events"]:
            assert o["span_s"] <= round(o["last_ack"] - o["first_ack"], 3) + 1e-9
    if out["pitr_price"]["events"]:
        assert out["pitr_price"]["first_ack"] > point
        assert t_swap is None or out["pitr_price"]["last_ack"] <= t_swap


def _journal(lost_acks: list[list[float]], *, point: float = T0 - 0.001, t_swap: float = T0 + 5,
             last_before: float = T0 - 0.01) -> list[Event]:
    restore = {"kind": "pitr", "instance": "r", "source": "snap-1", "restore_point": point, "source_taken_at": T0 - 60,
               "latest_restorable": T0 + 0.5, "t_started": T0 + 1, "t_ready": T0 + 4, "restore_s": 3.0}
    values: list[tuple[str, dict[str, Any]]] = [
        ("step.end", {"id": "restore", "ok": True, "result": restore}),
        ("step.end", {"id": "swap", "ok": True, "result": {"instance": "r", "t_swapped": t_swap}}),
        ("reconcile", {"lost_acks": lost_acks, "last_ack_before_fault_ts": last_before})]
    return [Event(i + 1, 0, T0 + i, kind, "test", v) for i, (kind, v) in enumerate(values)]


def test_the_pitr_price_is_reported_apart_and_rpo_counts_only_data_that_existed_before_t0():
    lost = [[T0 + 0.5, 10], [T0 + 4.0, 10]]  # acknowledged after the restore point, before the swap
    r = restore_measure(_journal(lost), _journal(lost)[-1].value, T0, rpo_heartbeat_s=0.0)
    assert r is not None
    assert r["missing"]["pitr_price"]["events"] == 20 and r["missing"]["pitr_price"]["span_s"] == 3.5
    assert r["missing"]["before_restore_point"]["events"] == 0
    assert r["rpo_s"] == 0.0  # nothing acknowledged before T0 is missing
    assert r["restore_s"] == 3.0 and r["backup_age_s"] == 60.0 and r["restorable_lag_s"] == 0.5
    assert all(t["ok"] for t in restore_targets(r))


def test_an_event_missing_from_before_the_restore_point_is_a_backup_defect_and_fails():
    lost = [[T0 - 2.0, 1], [T0 + 1.0, 5]]
    r = restore_measure(_journal(lost), _journal(lost)[-1].value, T0, rpo_heartbeat_s=0.0)
    assert r is not None and r["missing"]["before_restore_point"]["events"] == 1
    assert r["rpo_s"] >= 1.99  # from the missing one to the last acknowledgement before T0
    failed = [t["name"] for t in restore_targets(r) if not t["ok"]]
    assert failed == ["backup_defect_events"]


def test_a_run_without_a_restore_has_no_restore_section():
    assert restore_measure([], {"lost_acks": []}, T0, 0.0) is None


def _validation(*extra: tuple[str, dict[str, Any]], end: bool = True, error: str | None = None) -> list[Event]:
    kinds = [("restore_test.start", {"environment": "local", "run_id": "x"}),
             ("burst", {"acked": 200, "failed": 0, "indeterminate": 0, "last_ack": T0}), *extra]
    evs = [Event(i + 1, 0, T0 + i, k, "test", v) for i, (k, v) in enumerate(kinds)]
    if error:
        evs.append(Event(len(evs) + 1, 0, T0 + 9, "restore.failed", "target", {}, error))
    if end:
        evs.append(Event(len(evs) + 1, 0, T0 + 10, "restore_test.end", "runner", {}))
    return evs


_DONE = ("restore.done", {"restore_s": 2.5, "restore_point": T0 + 1, "source": "snap", "source_taken_at": T0 - 100,
                          "latest_restorable": T0 + 1, "t_started": T0 + 2})


def _verify(missing: int, acked: int = 200) -> tuple[str, dict[str, Any]]:
    return ("verify", {"acked_before": acked, "present_before": acked - missing, "missing_before": missing,
                       "missing_before_sample": []})


def test_the_validation_passes_only_when_every_acknowledged_event_came_back():
    assert check_restore_test(_validation(_DONE, _verify(0)))["verdict"] == "pass"
    s = check_restore_test(_validation(_DONE, _verify(37)))
    assert s["verdict"] == "fail" and "backup chain is broken" in s["reasons"][0]
    assert check_restore_test(_validation(_DONE, _verify(0, acked=150)))["verdict"] == "fail"  # the archive lagged


def test_the_validation_fails_when_the_restore_itself_fails_and_is_aborted_when_cut_off():
    s = check_restore_test(_validation(error="recovery ended before configured recovery target was reached"))
    assert s["verdict"] == "fail" and "could not be restored" in s["reasons"][0]
    assert check_restore_test(_validation(_DONE, end=False))["verdict"] == "aborted"
