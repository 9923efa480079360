"""The cache's figures from the journal alone (gameday.judge.cache): lost acknowledged SETs, their span, the
cache RTO from the cache probes; a cache target nothing measured is never a PASS."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gameday.journal import Event
from gameday.judge.cache import cache_measure, cache_targets
from gameday.judge.rpo import seq_ranges

T0 = 1000.0


def _journal(acked: int, present: set[int], probes: list[bool], reconciled: bool = True) -> list[Event]:
    out = [Event(i, 0, T0 - 1 + i * 0.001, "cache.ack", "cache", {"seq": i + 1, "ts": T0 - 1 + i * 0.001})
           for i in range(acked)]
    out += [Event(len(out) + i, 0, T0 + 0.1 * i + 0.05, "cache.probe", "cache", {"ok": ok, "started": T0 + 0.1 * i})
            for i, ok in enumerate(probes)]
    if reconciled:
        out.append(Event(len(out), 0, T0 + 60, "cache.reconcile", "runner", {"present": seq_ranges(present)}))
    return out


@given(st.integers(0, 200), st.data())
def test_lost_writes_are_the_acknowledged_seqs_the_primary_lacks(acked, data):
    present = data.draw(st.sets(st.integers(1, max(acked, 1)), max_size=acked))
    figures = cache_measure(_journal(acked, present, [True] * 10), T0, 5, T0 + 0.5)
    assert figures is not None
    assert figures["lost_writes"] == acked - len(present & set(range(1, acked + 1)))
    assert (figures["rpo_s"] > 0) == (figures["lost_writes"] > 0)


def test_the_cache_rto_ends_at_the_first_answer_of_the_run_of_n_good_probes_after_the_outage():
    figures = cache_measure(_journal(10, set(range(1, 11)), [True, False, False, False] + [True] * 10), T0, 5, T0 + 0.5)
    assert figures is not None and figures["rto_s"] == 0.45 and figures["probes_failed"] == 3
    assert figures["lost_writes"] == 0 and figures["rpo_s"] == 0.0


def test_without_reconciliation_the_cache_targets_are_unmeasured_never_met():
    figures = cache_measure(_journal(10, set(), [True] * 10, reconciled=False), T0, 5, T0 + 0.5)
    assert figures is not None and figures["lost_writes"] is None
    targets = cache_targets({"cache_rto_s": 60, "cache_rpo_s": 60, "cache_lost_writes_max": 5}, 1 / 60, figures)
    assert [t["ok"] for t in targets] == [True, False, False]


def test_a_run_that_watched_no_cache_has_no_cache_figures_and_its_cache_targets_fail_to_be_met():
    assert cache_measure([], T0, 5, T0 + 0.5) is None
    assert not any(t["ok"] for t in cache_targets({"cache_rto_s": 60, "cache_lost_writes_max": 0}, 1, None))


def test_the_reports_and_the_history_show_the_cache_figures_beside_the_databases():
    from gameday.history.collect import Run
    from gameday.history.render import row_of
    from gameday.report.html import render_html
    from gameday.report.markdown import render_markdown

    summary = {"drill": "cache-failover", "run_id": "r1", "environment": "local", "verdict": "pass", "time_scale": 1.0,
               "rto_s": 2.5, "rpo_s": 0.0, "cache": {"rto_s": 1.85, "rpo_s": 0.31, "writes_acked": 420, "lost_writes": 7}}
    md = render_markdown(summary)
    assert "cache RTO" in md and "1.85" in md and "| 420 / 7 |" in md
    html = render_html(summary, [])
    assert "cache RTO / RPO" in html and "0.31" in html and "420 / 7" in html
    assert "cache RTO" not in render_markdown({**summary, "cache": None}), "no cache watched: no cache rows"
    run = Run("out/x", "drill", "cache-failover", "local", 1.0, 0.0, "pass",
              figures={"rto_s": 2.5, "rpo_s": 0.0, "cache_rto_s": 1.85, "cache_rpo_s": 0.31, "cache_lost_writes": 7})
    row = row_of(run, 1.0)
    assert row["cache lost"] == "7" and "1.85" in row["cache RTO/RPO"]
