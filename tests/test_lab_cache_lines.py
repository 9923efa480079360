"""`gameday lab lag` and `lab status` show each cache node: configured and current role, replication offset,
its link and the bytes it is behind the primary (from a status, no lab needed)."""

from __future__ import annotations

from gameday.cli.lab import _connections, cache_lag_lines

ROWS = [
    {"kind": "cache", "name": "cache-us-east-1a", "configured_role": "primary", "role": "primary", "repl_offset": 9100,
     "link": None, "lag_bytes": None},
    {"kind": "cache", "name": "cache-us-east-1b", "configured_role": "replica", "role": "replica", "repl_offset": 9100,
     "link": "up", "lag_bytes": 0},
    {"kind": "cache", "name": "cache-us-west-2a", "configured_role": "dr-replica", "role": "replica",
     "repl_offset": 8700, "link": "down", "lag_bytes": 400},
    {"kind": "sentinel", "name": "sentinel-us-east-1a", "configured_role": "sentinel", "role": "sentinel",
     "elected": "cache-us-east-1a"},
]


def test_lag_prints_one_line_per_cache_node_with_role_offset_link_and_bytes_behind():
    lines = cache_lag_lines({"processes": ROWS})
    assert len(lines) == 3, "sentinels hold no data: no line"
    assert lines[0].split()[:5] == ["cache-us-east-1a", "primary", "->", "primary", "offset"] and "behind" not in lines[0]
    assert "dr-replica" in lines[2] and "link down" in lines[2] and "400 bytes behind" in lines[2]


def test_status_shows_a_replicas_offset_link_and_lag_and_a_sentinels_elected_primary():
    assert _connections(ROWS[2]) == "offset 8700 (link down, 400 B behind)"
    assert _connections(ROWS[3]) == "primary: cache-us-east-1a"
