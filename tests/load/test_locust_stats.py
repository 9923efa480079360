"""Locust's statistics fed once a second in bulk (``gameday.load.locust_stats``, pure, no processes) say what
they would say fed one request at a time through Locust's own ``log_request``/``log_error``: the same counts,
the same rounded response-time table (so the same percentiles), the same failures table."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from locust.stats import RequestStats

from gameday.load.locust_stats import StatsFeed
from gameday.load.window import new_histogram


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 5, 17, 99, 150, 420, 1300, 4000]), min_size=0, max_size=60),
       st.dictionaries(st.sampled_from(["HTTP 500", "could not connect"]), st.integers(1, 20), max_size=2))
def test_a_second_fed_in_bulk_reads_as_the_same_requests_fed_one_by_one(ms, failures):
    one_by_one, bulk = RequestStats(), RequestStats()
    h = new_histogram()
    for v in ms:
        h.record_value(v * 1000)
        one_by_one.log_request("POST", "/v1/trips", v, 0)
    for error, n in failures.items():
        for _ in range(n):
            one_by_one.log_request("POST", "/v1/trips", None, 0)  # type: ignore[arg-type]
            one_by_one.log_error("POST", "/v1/trips", error)
    StatsFeed(bulk).second("POST", "/v1/trips", h, sum(ms) * 1000, failures)
    for entry in ("total", "row"):
        a = one_by_one.total if entry == "total" else one_by_one.get("/v1/trips", "POST")
        b = bulk.total if entry == "total" else bulk.get("/v1/trips", "POST")
        assert (b.num_requests, b.num_failures, b.num_none_requests) == \
            (a.num_requests, a.num_failures, a.num_none_requests)
        assert {k: v for k, v in b.response_times.items() if v} == {k: v for k, v in a.response_times.items() if v}
        assert abs(b.total_response_time - a.total_response_time) < 1e-6
        if ms:
            assert b.get_response_time_percentile(0.95) == a.get_response_time_percentile(0.95)
            for got, want in ((b.min_response_time, min(ms)), (b.max_response_time, max(ms))):
                assert abs(got - want) <= want * 0.001, "within the histogram's 3 significant digits"
    assert {k: e.occurrences for k, e in bulk.errors.items()} == {k: e.occurrences for k, e in one_by_one.errors.items()}
