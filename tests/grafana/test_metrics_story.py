"""The runner's metrics tell the report's story: latency over the whole scrape window (histogram buckets,
not the last second's quantiles), the final RTO, RPO and lost count still there after the run (linger) or
pushed to a Pushgateway, and lab scrape targets whose labels Prometheus need not rename."""

from __future__ import annotations

import json
import urllib.request
from types import SimpleNamespace

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gameday.journal import Event
from gameday.lab.ingest_node import _metrics
from gameday.lab.metrics import lab_metrics
from gameday.lab.supervisor import write_scrape_targets
from gameday.load.window import LATENCY_BUCKETS_S, SecondWindow, bucket_counts, new_histogram
from gameday.metrics import RunnerMetrics
from gameday.observe import Observers


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def _tick(latencies_s: list[float]) -> dict:
    w = SecondWindow()
    for v in latencies_s:
        w.hist.record_value(max(1, int(v * 1_000_000)))
    return {"sent": len(latencies_s), "acked_events": len(latencies_s), "errors": 0, **w.latency_fields()}


_LATENCY = st.floats(min_value=0.0001, max_value=20.0)
_HIST = new_histogram()  # one, reset per example: allocating 1 us .. 1 h at 3 digits each time is the cost


@settings(max_examples=300, deadline=None)
@given(st.lists(_LATENCY, max_size=60))
def test_every_latency_lands_in_the_bucket_of_its_bound(latencies):
    # HdrHistogram keeps 3 significant digits: a value within 0.2 % of a bound may land either side
    assume(all(abs(v - b) > 0.002 * b for v in latencies for b in LATENCY_BUCKETS_S))
    h = _HIST
    h.reset()
    for v in latencies:
        h.record_value(max(1, int(v * 1_000_000)))
    counts = bucket_counts(h)
    assert sum(counts) == len(latencies)
    for i, bound in enumerate(LATENCY_BUCKETS_S):
        assert sum(counts[: i + 1]) == sum(1 for v in latencies if v <= bound)


def test_a_scrape_every_15_s_sees_all_fifteen_seconds_of_latency():
    m = RunnerMetrics("r1", "drill")
    seconds = [[0.002] * 50 for _ in range(14)] + [[0.002] * 40 + [0.8] * 10]  # one slow second, the last
    for i, lat in enumerate(seconds):
        m(Event(i, 0, 1000.0 + i, "load.tick", "load", _tick(lat)))
    s = _samples(generate_latest(m.registry).decode())
    assert s[("gameday_load_latency_seconds_count", ())] == 750  # every request of the window, not the last 50
    assert s[("gameday_load_latency_seconds_bucket", (("le", "0.0025"),))] == 740
    assert s[("gameday_load_latency_seconds_bucket", (("le", "0.5"),))] == 740
    assert s[("gameday_load_latency_seconds_bucket", (("le", "1.0"),))] == 750
    fams = {f.name: f.type for f in text_string_to_metric_families(generate_latest(m.registry).decode())}
    assert fams["gameday_load_latency_seconds"] == "histogram"


def _fetch(port: int) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3).read().decode()


def test_the_final_figures_stay_scrapeable_for_the_linger_and_unmeasured_ones_are_absent():
    obs = Observers("run-7", "drill", metrics_port=0, metrics_linger_s=30).start()
    try:
        obs.finish("fail", "", {"verdict": "fail", "rto_s": 2.5, "rpo_s": None, "events_lost": 12})
        text = _fetch(obs.server.server_port)  # the run is over: the endpoint still answers
    finally:
        assert obs.linger is not None
        obs.linger.cancel()
        obs.server.shutdown()
    s = _samples(text)
    assert s[("gameday_drill_rto_seconds", ())] == 2.5 and s[("gameday_events_lost", ())] == 12
    assert s[("gameday_run_verdict", (("verdict", "fail"),))] == 1
    assert s[("gameday_run_info", (("kind", "drill"), ("run_id", "run-7")))] == 1
    assert not any(name == "gameday_drill_rpo_seconds" for name, _ in s), "not measured: not exposed as 0"


def test_the_final_figures_are_pushed_to_the_pushgateway(httpserver):
    pushed: list[str] = []

    def accept(request):
        pushed.append(request.get_data(as_text=True))
        from werkzeug import Response
        return Response("", 200)

    httpserver.expect_request("/metrics/job/gameday/kind/drill", method="PUT").respond_with_handler(accept)
    obs = Observers("run-9", "drill", pushgateway=httpserver.url_for("/")).start()
    obs.finish("pass", "", {"verdict": "pass", "rto_s": 1.5, "rpo_s": 0.2, "events_lost": 0})
    [body] = pushed
    s = _samples(body)
    assert s[("gameday_drill_rto_seconds", ())] == 1.5 and s[("gameday_drill_rpo_seconds", ())] == 0.2
    assert s[("gameday_run_info", (("kind", "drill"), ("run_id", "run-9")))] == 1


def test_a_pushgateway_outage_warns_and_changes_nothing(capsys):
    obs = Observers("run-10", "drill", pushgateway="http://127.0.0.1:9").start()
    obs.finish("pass", "", {"rto_s": 1.0})
    assert "push to the Pushgateway http://127.0.0.1:9 failed" in capsys.readouterr().err


def _exporter_labels() -> set[str]:
    node = _metrics({"node": "n1", "region": "us-east-1", "zone": "us-east-1a", "capacity_type": "spot"})
    node["requests"].labels(**node["base"], code="202").inc()
    lab = lab_metrics({"zones": ["us-east-1a"], "regions": {"primary": "us-east-1", "dr": "us-west-2"},
                       "processes": [{"kind": "db", "name": "db-a", "region": "us-east-1", "zone": "us-east-1a",
                                      "role": "primary", "port": 5001}],
                       "writer_endpoints": {"us-east-1": {"port": 6000, "target": 5001}},
                       "replication": [{"standby": "db-b", "sync_state": "sync", "lag_bytes": 0}],
                       "link": {"delay_ms": 0.0, "cut": False}, "dns": {"answer": "us-east-1"}})
    texts = [generate_latest(node["registry"]).decode(), lab.decode(),
             generate_latest(RunnerMetrics("r", "drill").registry).decode()]
    return {k for t in texts for fam in text_string_to_metric_families(t) for s in fam.samples for k in s.labels}


def test_no_scrape_target_label_equals_an_exporter_label(tmp_path):
    nodes = [SimpleNamespace(port=7001 + i, name=f"node-{z}", region="us-east-1", zone=f"us-east-1{z}", alive=True)
             for i, z in enumerate("ab")]
    write_scrape_targets(tmp_path, SimpleNamespace(fleet=SimpleNamespace(nodes=nodes)), 7000)
    groups = json.loads((tmp_path / "prometheus-targets.json").read_text())
    exported = _exporter_labels()
    assert {"node", "region", "zone"} <= exported  # the exporters say which node a series is from
    assert len(groups) == 3 and {t for g in groups for t in g["targets"]} >= {"127.0.0.1:7001", "127.0.0.1:7002"}
    for g in groups:
        clash = set(g["labels"]) & exported
        assert not clash, f"Prometheus would rename the exporter's {clash} to exported_*"
