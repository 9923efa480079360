"""The checker is a pure function of events: RTO, RPO, budgets and the verdict, on made-up histories."""

from __future__ import annotations

from gameday.journal import Event
from gameday.judge.drill import check

T0 = 1000.0


def _history(*, probe_ok: list[bool], hb_acked: list[float], present_ts: float | None, lost: int = 0,
             steps: list[tuple[str, float, float, bool]] | None = None, budgets: dict[str, float] | None = None,
             targets: dict | None = None, reconcile: bool = True, aborted: bool = False) -> list[Event]:
    evs: list[Event] = []

    def add(kind: str, t: float, **value) -> None:
        evs.append(Event(len(evs) + 1, int(t * 1e9), t, kind, "test", value))

    steps = steps or [("alert", 0.05, 0.3, True), ("confirm", 0.3, 1.3, True)]
    budgets = budgets or {"alert": 60, "confirm": 300}
    add("drill.start", T0 - 5, drill="d", run_id="r", environment="local", time_scale=1 / 60, probe_consecutive=3,
        declare_step="confirm", targets=targets or {"rto_s": 1800, "rpo_s": 300, "lost_events_max": None},
        steps=[{"id": s[0], "name": s[0], "kind": "wait", "budget_s": budgets[s[0]]} for s in steps])
    for ts in hb_acked:
        add("heartbeat.ack", ts, seq=1, ts=ts)
    add("fault.applied", T0 + 0.01, t_applied=T0)
    for i, ok in enumerate(probe_ok):
        add("probe", T0 + 0.2 * (i + 1), ok=ok)
    for sid, a, b, ok in steps:
        add("step.start", T0 + a, id=sid)
        add("step.end", T0 + b, id=sid, ok=ok, detail="x")
    if reconcile:
        add("reconcile", T0 + 10, events_acked=100, events_lost=lost, events_indeterminate=2, events_unexpected=0,
            indeterminate_present=1, last_present_heartbeat_ts=present_ts)
    add("drill.end", T0 + 11, aborted=aborted, reason="SIGTERM" if aborted else None)
    return sorted(evs, key=lambda e: e.t_wall)


def test_rto_is_first_of_n_consecutive_successes_after_the_outage_was_seen():
    # probes at +0.2 .. : ok, fail, fail, ok, fail, ok, ok, ok, ok
    s = check(_history(probe_ok=[True, False, False, True, False, True, True, True, True],
                       hb_acked=[T0 - 0.3, T0 - 0.2, T0 - 0.1], present_ts=T0 - 0.3))
    assert s["t_detect_s"] == 0.4
    assert s["t_recovered_s"] == 1.2  # the lone success at +0.8 is not recovery (N=3)
    assert s["rto_s"] == 1.2
    assert s["rpo_s"] == 0.2  # last acked heartbeat T0-0.1, last present T0-0.3
    assert s["t_declare_s"] == 1.3
    assert s["verdict"] == "pass", s["reasons"]


def test_breached_target_and_blown_step_fail_and_are_named():
    s = check(_history(probe_ok=[False] * 10 + [True] * 3, hb_acked=[T0], present_ts=T0,
                       steps=[("alert", 0.0, 0.2, True), ("promote", 0.2, 2.0, True)],
                       budgets={"alert": 60, "promote": 60},  # 1 s each at time scale 1/60
                       targets={"rto_s": 60, "rpo_s": 0, "lost_events_max": 0}, lost=3))
    assert s["verdict"] == "fail"
    text = " | ".join(s["reasons"])
    assert "rto target breached" in text and "lost_events target breached" in text
    assert "step 'promote' blew its budget" in text
    assert s["blown_steps"] == ["promote"]


def test_failed_step_fails_the_drill():
    s = check(_history(probe_ok=[False, True, True, True], hb_acked=[T0], present_ts=T0,
                       steps=[("alert", 0.0, 0.1, True), ("confirm", 0.1, 0.2, False)]))
    assert s["verdict"] == "fail" and any("did not complete" in r for r in s["reasons"])


def test_no_reconciliation_is_inconclusive_never_pass():
    s = check(_history(probe_ok=[False, True, True, True], hb_acked=[T0], present_ts=T0, reconcile=False))
    assert s["verdict"] == "inconclusive"


def test_never_recovered_fails_rto():
    s = check(_history(probe_ok=[False] * 20, hb_acked=[T0], present_ts=T0))
    assert s["rto_s"] is None and s["verdict"] in ("fail", "inconclusive")
    assert any("rto could not be measured" in r for r in s["reasons"])


def test_aborted_run_is_aborted():
    s = check(_history(probe_ok=[True] * 5, hb_acked=[T0], present_ts=T0, aborted=True))
    assert s["verdict"] == "aborted"


def test_checker_crash_is_inconclusive():
    bad = [Event(1, 0, 0.0, "drill.start", "x", {"drill": "d"})]  # missing fields
    assert check(bad)["verdict"] == "inconclusive"
