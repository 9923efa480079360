"""The engine's ledger hand-over: each second's answered requests merged into runs of consecutive ids per
millisecond. Generated answers: the runs give back exactly the requests answered, each at its own time, and no
two runs could have been one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gameday.load.id_runs import merge_runs as _merge
from gameday.load.id_runs import note as _note


@given(st.integers(1, 5), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 4)), max_size=80, unique_by=lambda t: t[0]))
def test_the_runs_give_back_every_answered_request_at_its_time_and_are_maximal(batch, answers):
    by_bucket: dict[int, list[int]] = {}
    for k, bucket in answers:
        _note(by_bucket, 1_796_000_000_000 + bucket, k * batch)
    runs = _merge(by_bucket, batch)
    got = {(first + i * batch, at) for first, n, at in runs for i in range(int(n) // batch)}
    assert got == {(k * batch, round((1_796_000_000_000 + b) * 0.001, 3)) for k, b in answers}
    assert all(n % batch == 0 and n > 0 for _, n, _ in runs)
    assert [r[2] for r in runs] == sorted(r[2] for r in runs), "in time order"
    for (f1, n1, at1), (f2, _, at2) in zip(runs, runs[1:], strict=False):
        assert not (at1 == at2 and f1 + n1 == f2), "two runs that are one"
