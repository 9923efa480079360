"""Connections made visible without a lab: refusals read from PostgreSQL's log become lab events (at most one
per instance per interval, none lost whatever pieces the log arrives in), and the connection gauges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.lab.metrics import lab_metrics
from gameday.lab.refusals import RefusalWatch, refusals_in

RESERVED = ('2025-01-01 10:00:00.123 UTC [4242] app@postgres FATAL:  remaining connection slots are reserved for '
            'roles with privileges of the "pg_use_reserved_connections" role')
TOO_MANY = "2025-01-01 10:00:00.456 UTC [4243] postgres@postgres FATAL:  sorry, too many clients already"
OTHER = '2025-01-01 10:00:01.000 UTC [4244] app@postgres FATAL:  role "nobody" does not exist'
CHECKPOINT = "2025-01-01 10:00:02.000 UTC [99] LOG:  checkpoint starting: time"


def test_refusals_are_counted_per_role_and_other_errors_are_not():
    by_role, first = refusals_in("\n".join([CHECKPOINT, RESERVED, OTHER, RESERVED, TOO_MANY]))
    assert by_role == {"app": 2, "postgres": 1}
    assert first is not None and first.startswith("remaining connection slots are reserved")


def _watch(tmp_path: Path) -> tuple[RefusalWatch, list[dict[str, Any]], Path]:
    log = tmp_path / "db.log"
    log.write_text(CHECKPOINT + "\n")
    events: list[dict[str, Any]] = []
    w = RefusalWatch({"db-a": log}, lambda kind, d: events.append({"kind": kind, **d}), max_connections=40,
                     every_s=5)
    w.start_at_end()
    return w, events, log


def test_the_first_refusal_is_an_event_at_once_then_one_per_interval_with_the_count(tmp_path):
    w, events, log = _watch(tmp_path)
    w.poll(now=100)
    assert events == [], "what was logged before the watch began does not count, nor does a quiet log"
    with open(log, "a") as f:
        f.write(RESERVED + "\n")
    w.poll(now=101)
    assert len(events) == 1 and events[0]["kind"] == "rds.connections_refused"
    assert events[0]["instance"] == "db-a" and events[0]["refused"] == 1 and events[0]["max_connections"] == 40
    with open(log, "a") as f:
        f.write((RESERVED + "\n") * 3 + TOO_MANY[:30])  # the last line is not complete yet
    w.poll(now=103)
    assert len(events) == 1, "within the interval: counted, not yet an event"
    with open(log, "a") as f:
        f.write(TOO_MANY[30:] + "\n")
    w.poll(now=106.5)
    assert events[1]["refused"] == 4 and events[1]["by_role"] == {"app": 3, "postgres": 1}


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.sampled_from([RESERVED, TOO_MANY, OTHER, CHECKPOINT]), max_size=30),
       cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=8))
def test_no_refusal_is_lost_or_counted_twice_whatever_pieces_the_log_arrives_in(tmp_path_factory, lines, cuts):
    w, events, log = _watch(tmp_path_factory.mktemp("w"))
    text = "".join(line + "\n" for line in lines)
    bounds = sorted({min(c, len(text)) for c in cuts} | {len(text)})
    start = 0
    for i, end in enumerate(bounds):
        with open(log, "a") as f:
            f.write(text[start:end])
        start = end
        w.poll(now=10.0 * i)  # every poll is past the interval: each piece's refusals are due at once
    assert sum(e["refused"] for e in events) == sum(1 for line in lines if line in (RESERVED, TOO_MANY))


def test_the_connection_gauges_follow_each_instances_connections():
    conns = {"in_use": 30, "app": 27, "max": 40, "reserved": 13, "app_max": 27}
    status = {"zones": ["us-east-1a"], "regions": {"primary": "us-east-1", "dr": "us-west-2"},
              "processes": [{"kind": "db", "name": "db-us-east-1a", "zone": "us-east-1a", "role": "primary",
                             "connections": conns, "port": 1},
                            {"kind": "db", "name": "db-us-east-1b", "zone": "us-east-1b", "role": "down",
                             "connections": None, "port": 2}],
              "writer_endpoints": {}, "replication": [], "link": {"delay_ms": 0, "cut": False},
              "dns": {"answer": "us-east-1"}}
    text = lab_metrics(status).decode()
    assert 'gameday_lab_db_app_connections{db="db-us-east-1a",zone="us-east-1a"} 27.0' in text
    assert 'gameday_lab_db_app_max_connections{db="db-us-east-1a",zone="us-east-1a"} 27.0' in text
    assert 'gameday_lab_db_max_connections{db="db-us-east-1a",zone="us-east-1a"} 40.0' in text
    assert 'gameday_lab_db_connections{db="db-us-east-1a",zone="us-east-1a"} 30.0' in text
    assert 'db="db-us-east-1b"' not in "\n".join(x for x in text.splitlines() if "connections" in x), \
        "an instance that does not answer has no connection figures (not zero)"
