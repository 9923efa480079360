"""The lab's fleet when a node's process dies on its own while starting (a port taken by another process in
the moment between choosing it and binding it, in CI): the node is replaced, as an auto scaling group
replaces an instance, and the lab settles; a node that dies at every start is named with its exit code and
its log's last words. Real processes (a small service), no lab: seconds."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from gameday.config import HealthCheckSettings
from gameday.lab.fleet import Fleet
from gameday.lab.hosted import HostedService
from gameday.procs import _ephemeral_range, free_port
from gameday.service.spec import LabServiceSpec

FLAKY = Path(__file__).parents[1] / "services" / "flaky_start.py"


def _fleet(tmp_path: Path, *extra: str) -> tuple[Fleet, list[tuple[str, dict[str, Any]]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    spec = LabServiceSpec(command=[sys.executable, str(FLAKY), "--port", "{{port}}", "--marker",
                                   str(tmp_path / "died"), *extra], health_path="/health")
    hc = HealthCheckSettings(interval_s=0.1, timeout_s=0.5, healthy_threshold=1)
    fleet = Fleet(tmp_path, hc, lambda _r: 5432, 1, lambda k, v: events.append((k, v)),
                  HostedService(spec, None, None))
    return fleet, events


async def _settle(fleet: Fleet, replacements: int) -> None:
    fleet.add("us-east-1", "us-east-1a", "spot")
    fleet.start()
    try:
        await fleet.settle(30, replacements=replacements)
    finally:
        await fleet.stop()


def test_a_node_that_died_starting_is_replaced_and_the_fleet_settles(tmp_path: Path) -> None:
    fleet, events = _fleet(tmp_path)
    asyncio.run(_settle(fleet, replacements=2))
    kinds = [k for k, _ in events]
    assert kinds.count("node.exited") == 1 and kinds.count("autoscaler.replaced") == 1, kinds
    replaced = dict(events)["autoscaler.replaced"]
    assert replaced["old"] == "node-us-east-1a-spot-1" and replaced["new"] == "node-us-east-1a-spot-2"
    assert "exited with code 1" in replaced["why"] and "address already in use" in replaced["why"]
    assert [n.name for n in fleet.nodes] == ["node-us-east-1a-spot-2"]


def test_a_node_that_dies_at_every_start_is_named_with_its_exit_code_and_last_words(tmp_path: Path) -> None:
    fleet, events = _fleet(tmp_path, "--always-die")
    with pytest.raises(RuntimeError) as err:
        asyncio.run(_settle(fleet, replacements=1))
    msg = str(err.value)
    assert msg.startswith("ingest nodes not healthy within 30 s: node-us-east-1a-spot-2 (exited with code 1: ")
    assert "address already in use" in msg
    assert [k for k, _ in events].count("autoscaler.replaced") == 1  # replaced once, then given up


def test_free_ports_are_below_the_range_outgoing_connections_take_theirs_from_and_not_repeated() -> None:
    low, _ = _ephemeral_range()
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert all(p < low for p in ports), [p for p in ports if p >= low]
    with socket.socket() as s:  # free when handed out
        s.bind(("127.0.0.1", ports[-1]))
