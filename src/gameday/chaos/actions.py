"""Chaos Toolkit actions: faults and their inverses on the Target the environment names.

Every function takes plain keyword arguments plus ``configuration`` and ``secrets`` and raises
``ActivityFailed`` when the target refuses or fails.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday import operations, spellings
from gameday.chaos.session import session_for
from gameday.errors import GamedayError
from gameday.targets.base import FaultResult

__all__ = ["fail_zone", "freeze_zone", "restore_zone", "interrupt_spot", "fail_over_db", "fail_cache_primary",
           "fail_region", "restore", "start_load", "stop_load"]


def _call(configuration: Configuration, func: str, **kwargs: Any) -> dict[str, Any]:
    """Resolve the action through the operation registry, call the target; for a fault, journal that it is
    applied the moment the target says so (a signal during the activity's pause must not hide it)."""
    s = session_for(configuration)
    try:
        name, args = operations.from_chaos(func, {k: v for k, v in kwargs.items() if v is not None}, s.environment)
        result = operations.apply(s.target, name, args, journal=s.journal)  # a rollback is retried, journaled
    except GamedayError as exc:
        raise ActivityFailed(f"{func}: {exc}") from exc
    if isinstance(result, FaultResult):
        if s.journal is not None:
            s.journal.record("fault.applied", "chaos", {"action": name, "args": args, "t_applied": result.t_applied})
        return result.as_dict()
    return dict(result)


# One function per operation the registry marks ``chaos``, named as the operation (test_experiment_files
# checks the two agree); the docstring says what it touches.
def fail_zone(zone: str, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Lose availability zone ``zone``: every ingest node, DB instance and cache node in it is killed.
    Touches: the zone's nodes, database instance and cache nodes."""
    return _call(configuration, "fail_zone", zone=zone)


def freeze_zone(zone: str, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Partition availability zone ``zone``: every process in it is frozen (SIGSTOP), not killed.
    Touches: the zone's nodes, database instance and cache nodes."""
    return _call(configuration, "freeze_zone", zone=zone)


def restore_zone(zone: str, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Bring zone ``zone`` back (the lab restores its whole configured shape). Touches: the zone's processes."""
    return _call(configuration, "restore_zone", zone=zone)


def interrupt_spot(count: int = 1, zone: str | None = None, configuration: Configuration = None,
                   secrets: Secrets = None) -> dict[str, Any]:
    """Spot interruption of ``count`` spot nodes (spread over zones, or in ``zone``): notice, drain, kill;
    the autoscaler replaces them. Touches: spot ingest nodes."""
    return _call(configuration, "interrupt_spot", count=count, zone=zone)


def fail_over_db(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Kill the database primary; Multi-AZ automation promotes the synchronous standby.
    Touches: the primary DB instance."""
    return _call(configuration, "fail_over_db")


def fail_cache_primary(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Kill the cache primary; the replication group's automatic failover promotes its replica and the primary
    endpoint follows. Touches: the cache primary node."""
    return _call(configuration, "fail_cache_primary")


def fail_region(region: str, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Lose region ``region``: every process, endpoint and the cross-region link. Touches: the whole region."""
    return _call(configuration, "fail_region", region=region)


def restore(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Bring the environment back to its configured shape. Touches: every region."""
    return _call(configuration, "restore")


def _old(name: str) -> Any:
    def old(configuration: Configuration = None, secrets: Secrets = None, **kwargs: Any) -> dict[str, Any]:
        return _call(configuration, name, **kwargs)  # gameday.spellings resolves it, warning once

    old.__name__ = old.__qualname__ = name
    old.__doc__ = f"Deprecated: the old name of {spellings.OLD[name].name}."
    return old


# The actions' names before one name per operation: existing experiments naming them still run (they warn
# once). Not in __all__, so ``chaos discover`` lists each operation once.
_OLD_FUNCTIONS = ("fail_availability_zone", "restore_availability_zone", "interrupt_spot_nodes",
                  "fail_over_database", "restore_region")
globals().update({name: _old(name) for name in _OLD_FUNCTIONS})


def start_load(profile: str = "loadprofiles/ingest_steady.py", rate: float = 100.0, duration: float = 30.0,
               batch: int = 1, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Start a Locust load profile in the background (its own process) against the public endpoint;
    probes read its progress, ``stop_load`` or the end of the experiment stops it. Touches: ingest traffic."""
    from gameday.drill.locust_load import LocustLoad
    from gameday.journal import Journal

    s = session_for(configuration)
    if not Path(profile).exists():
        raise ActivityFailed(f"load profile {profile!r} not found")
    out = s.out_dir / f"load-{len(s.loads) + 1}"
    out.mkdir(parents=True, exist_ok=True)
    load = LocustLoad(profile=Path(profile), service=s.target.service(), out_dir=out, rate=rate, batch=batch,
                      max_s=duration, run_id=f"chaos{int(time.time())}",
                      journal=s.journal or Journal(out / "journal.jsonl"), ledger=out / "ledger.txt")
    load.start()
    s.loads.append(load)
    deadline = time.monotonic() + 15  # return once the generator is sending
    while time.monotonic() < deadline and not (out / "progress.jsonl").exists():
        time.sleep(0.1)
    return {"profile": profile, "rate": rate, "duration": duration, "out": str(out)}


def stop_load(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Stop the background load and wait for its results. Touches: ingest traffic."""
    s = session_for(configuration)
    load = s.current_load()
    if load is None:
        return {"stopped": False}
    load.stop()
    return {"stopped": True, "verdict": (load.summary or {}).get("verdict")}
