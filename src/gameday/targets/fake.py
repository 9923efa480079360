"""An in-memory Target: the whole Target protocol without a process, for fast tests of the runner, the
checker, ``recover`` and the verdicts (as httpx's ``MockTransport`` stands beside its transports).

It models what those need to see: whether the public endpoint serves (a lost primary region until DNS
points at a promoted DR region; a DB failover for ``db_outage_s``), which writes the current primary
holds (a region loss drops the last ``lag_s`` of them, like an asynchronous replica), and every call
made. ``fail_on`` makes a method raise, to test what a run does when its driver fails.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from gameday.errors import DriverError
from gameday.service.resolved import Service
from gameday.service.spec import ServiceSpec, StoreSpec, WriteSpec
from gameday.targets.base import DbStatus, EnvironmentStatus, FaultResult, NodeStatus
from gameday.targets.fake_restore import FakeRestores

FAKE_SERVICE = ServiceSpec(write=WriteSpec(path="/events", body="[{{events}}]", event='{"id":"{{event_id}}"}'),
                           store=StoreSpec(present_query="SELECT id FROM events WHERE id = ANY(%(ids)s)"))

__all__ = ["FakeTarget"]


class FakeTarget(FakeRestores):
    def __init__(self, *, primary: str = "us-east-1", dr: str = "us-west-2", zones: tuple[str, ...] = ("a", "b", "c"),
                 lag_s: float = 0.0, db_outage_s: float = 0.3, fail_on: dict[str, Exception] | None = None,
                 slow: dict[str, float] | None = None, service: ServiceSpec = FAKE_SERVICE,
                 database: bool = True) -> None:
        self.name = "fake"
        self.service_spec = service  # e.g. one without store:
        self.database = database  # False: no database reachable (the heartbeat and reconciliation get none)
        self.primary, self.dr = primary, dr
        self.zones = [f"{primary}{z}" for z in zones]
        self.lag_s, self.db_outage_s = lag_s, db_outage_s
        self.fail_on = dict(fail_on or {})
        self.slow = dict(slow or {})  # method -> seconds it takes (a slow API, a slow person)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self.rows: list[tuple[float, str]] = []  # (time written, id): what the primary holds
        self.zones_down: set[str] = set()
        self.region_down_at: float | None = None
        self.db_down_until: float | None = None
        self.dns_region = primary
        self.promoted = False
        self.dr_nodes = 1
        self.link_delay_ms: float | None = None
        self.applied: list[str] = []
        self.restored: dict[str, dict[str, Any]] = {}
        self.t_first_backup = time.time()
        self.answer: str | None = None  # the service fails every request with this, fault or not ("write: HTTP 401: ...")
        self.restore()
        self.calls.clear()

    # ---- bookkeeping ------------------------------------------------------------------------------
    def _call(self, name: str, **args: Any) -> None:
        self.calls.append((name, args))
        if name in self.fail_on:
            raise self.fail_on[name]
        if name in self.slow:
            time.sleep(self.slow[name])

    def serving(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        if self.answer is not None:
            return False
        if self.region_down_at is not None:
            return self.dns_region == self.dr and self.promoted and self.dr_nodes >= 1
        return not (self.db_down_until and now < self.db_down_until)

    def write(self, ids: list[str], ts: float) -> bool:
        """Store a batch if the service is up; True when acknowledged."""
        with self._lock:
            if not self.serving(ts):
                return False
            self.rows.extend((ts, i) for i in ids)
            return True

    def write_primary(self, ids: list[str], ts: float) -> bool:
        """Store through the primary region's writer endpoint (the heartbeat's path): down with the region."""
        with self._lock:
            if self.region_down_at is not None or not self.database:
                return False
            self.rows.extend((ts, i) for i in ids)
            return True

    def present(self) -> set[str]:
        """The ids the current primary holds (after a region loss: what had crossed the link, and what came after)."""
        with self._lock:
            cut = self.region_down_at
            return {i for ts, i in self.rows if cut is None or ts <= cut - self.lag_s or ts > cut}

    # ---- faults -----------------------------------------------------------------------------------
    def _fault(self, name: str, **args: Any) -> FaultResult:
        self._call(name, **args)
        t = time.time()
        self.applied.append(name)
        return FaultResult(t, {"fault": name, **args})

    def fail_zone(self, zone: str) -> FaultResult:
        self.zones_down.add(zone)
        return self._fault("fail_zone", zone=zone)

    def freeze_zone(self, zone: str) -> FaultResult:
        self.zones_down.add(zone)
        return self._fault("freeze_zone", zone=zone)

    def interrupt_spot(self, count: int = 1, zone: str | None = None) -> FaultResult:
        return self._fault("interrupt_spot", count=count, zone=zone)

    def fail_over_db(self) -> FaultResult:
        result = self._fault("fail_over_db")
        self.db_down_until = result.t_applied + self.db_outage_s
        return result

    def fail_cache_primary(self) -> FaultResult:
        return self._fault("fail_cache_primary")

    def cache_url(self) -> str | None:
        return None  # the fake has no cache to speak to

    def fail_region(self, region: str) -> FaultResult:
        result = self._fault("fail_region", region=region)
        self.region_down_at = result.t_applied
        return result

    def delay_link(self, ms: float) -> FaultResult:
        result = self._fault("delay_link", ms=ms)
        self.link_delay_ms = ms
        return result

    def inject_latency(self, ms: float = 0.0, stall_s: float = 0.0) -> FaultResult:
        return self._fault("inject_latency", ms=ms, stall_s=stall_s)

    def restore_zone(self, zone: str) -> dict[str, Any]:
        self._call("restore_zone", zone=zone)
        self.zones_down.discard(zone)
        return {"zone": zone}

    def restore(self) -> dict[str, Any]:
        self._call("restore")
        self.zones_down = set()
        self.region_down_at = None
        self.db_down_until = None
        self.dns_region = self.primary
        self.promoted = False
        self.dr_nodes = 1
        self.link_delay_ms = None
        self.applied = []
        return {"restored": True}

    # ---- runbook actions --------------------------------------------------------------------------
    def promote_dr_db(self) -> dict[str, Any]:
        self._call("promote_dr_db")
        self.promoted = True
        return {"promoted": self.dr}

    def promote_cache(self) -> dict[str, Any]:
        self._call("promote_cache")
        return {"promoted": f"cache-{self.dr}"}

    def return_primary_cache(self) -> dict[str, Any]:
        self._call("return_primary_cache")
        return {"primary": f"cache-{self.primary}"}

    def switch_dns(self, region: str) -> dict[str, Any]:
        self._call("switch_dns", region=region)
        self.dns_region = region
        return {"answer": region}

    def drain_zone(self, zone: str) -> dict[str, Any]:
        self._call("drain_zone", zone=zone)
        self.zones_down.add(zone)
        return {"zone": zone}

    def run_region_switch_plan(self, region: str, action: str = "activate", mode: str = "ungraceful") -> dict[str, Any]:
        self._call("run_region_switch_plan", region=region, action=action, mode=mode)
        return {"target_region": region, "state": "completed"}

    def consumer_lag(self) -> dict[str, Any] | None:
        return None

    def scale_dr(self, count: int) -> dict[str, Any]:
        self._call("scale_dr", count=count)
        self.dr_nodes = count
        return {"count": count}

    def rebuild_primary_region(self) -> dict[str, Any]:
        self._call("rebuild_primary_region")
        self.region_down_at = None
        return {"rebuilt": self.primary}

    def return_primary_db(self) -> dict[str, Any]:
        self._call("return_primary_db")
        self.promoted = False
        return {"writer": self.primary}

    def rebuild_dr_db(self) -> dict[str, Any]:
        self._call("rebuild_dr_db")
        return {"rebuilt": self.dr}

    # ---- observation ------------------------------------------------------------------------------
    def public_endpoint(self) -> str:
        return "http://fake.invalid"

    def service(self) -> Service:
        return Service.resolve(self.service_spec, url=self.public_endpoint())

    def writer_dsn(self, region: str | None = None) -> str:
        if not self.database:
            raise DriverError("no database endpoint is reachable from this runner")
        return f"fake://writer/{region or self.primary}"

    def primary_dsn(self) -> str:
        self._call("primary_dsn")
        if not self.database:
            raise DriverError("no database endpoint is reachable from this runner")
        return f"fake://primary/{self.dr if self.promoted else self.primary}"

    def regions(self) -> tuple[str, str]:
        return self.primary, self.dr

    def status(self) -> EnvironmentStatus:
        self._call("status")
        down = self.region_down_at is not None
        nodes = [NodeStatus(name=f"node-{z}", region=self.primary, zone=z, healthy=not down and z not in self.zones_down)
                 for z in self.zones]
        nodes += [NodeStatus(name=f"node-{self.dr}-{i}", region=self.dr, zone=f"{self.dr}a", healthy=True)
                  for i in range(self.dr_nodes)]
        dbs = [DbStatus(name="db-primary", region=self.primary, zone=self.zones[0],
                        role="down" if down else "primary"),
               DbStatus(name="db-dr", region=self.dr, zone=f"{self.dr}a", role="primary" if self.promoted else "standby")]
        return EnvironmentStatus(primary_region=self.primary, dr_region=self.dr, zones=self.zones, nodes=nodes, dbs=dbs,
                                 dns_region=self.dns_region, dr_promoted=self.promoted)

    def check_stop_conditions(self) -> None:
        self._call("check_stop_conditions")

    def preflight(self, name: str, args: dict[str, Any]) -> None:
        if "preflight" in self.fail_on:  # not recorded in calls: it changes nothing
            raise self.fail_on["preflight"]

    def unreachable(self, what: str = "status") -> None:
        """Make ``what`` fail the way a driver does when its API cannot be reached."""
        self.fail_on[what] = DriverError(f"{what}: the API does not answer", code="Unavailable")
