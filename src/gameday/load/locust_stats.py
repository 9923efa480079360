"""Locust's own statistics fed from the engine's seconds, in bulk (imports locust: Locust processes only).

Locust's statistics (web UI, ``--csv``, ``--json``, a distributed run's master) are ``StatsEntry`` objects fed one
request at a time through the ``request`` event: two dict updates, a rounding and a clock read per request, per
entry, which cost the engine about a fifth of its rate (``make bench-load``). The engine already counts each
second's answers (an HdrHistogram of acknowledged latency, their exact sum, the failures by kind), so once a
second this module folds that second into one ``StatsEntry`` and merges it with ``StatsEntry.extend``, which is
how Locust's own master merges its workers' statistics. The table, charts and percentiles then show every answer
(latency rounded as Locust rounds it); a failed request counts as a request and a failure, with no response time
(the engine measures latency on acknowledged requests only). Listeners of the ``request`` event are not called:
``--gameday-locust-stats events`` fires it per answer for them, at its full cost.
"""

from __future__ import annotations

import time
from collections import defaultdict

from hdrh.histogram import HdrHistogram
from locust.stats import RequestStats, StatsEntry, StatsError, bucket_response_time

__all__ = ["StatsFeed"]


class StatsFeed:
    """``second(method, name, hist, lat_sum_us, failures)``: one second of answers into Locust's statistics."""

    def __init__(self, stats: RequestStats) -> None:
        self.stats = stats

    def second(self, method: str, name: str, hist: HdrHistogram, lat_sum_us: int, failures: dict[str, int]) -> None:
        ok, failed = hist.get_total_count(), sum(failures.values())
        if not ok and not failed:
            return
        now = time.time()
        d = StatsEntry(self.stats, name, method)
        d.num_requests, d.num_none_requests, d.num_failures = ok + failed, failed, failed
        d.total_response_time = lat_sum_us / 1000  # type: ignore[assignment]  # ms, as the request event gives them
        if ok:
            d.min_response_time, d.max_response_time = hist.get_min_value() / 1000, hist.get_max_value() / 1000
        times: defaultdict[int, int] = defaultdict(int)
        for step in hist.get_recorded_iterator():
            times[bucket_response_time(step.value_iterated_to / 1000)] += step.count_added_in_this_iter_step
        d.response_times = times
        d.num_reqs_per_sec = defaultdict(int, {int(now): ok + failed})
        d.num_fail_per_sec = defaultdict(int, {int(now): failed} if failed else {})
        d.last_request_timestamp = now
        self.stats.total.extend(d)
        self.stats.get(name, method).extend(d)
        for error, n in failures.items():
            key = StatsError.create_key(method, name, error)
            entry = self.stats.errors.get(key)
            if entry is None:
                entry = self.stats.errors[key] = StatsError(method, name, error)
            entry.occurrences += n
