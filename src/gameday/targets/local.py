"""The local driver: the Target interface on the embedded lab, through its control API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gameday.config import Environment
from gameday.errors import ConfigError, DriverError, LabError
from gameday.lab.control import DEFAULT_DIR, LabClient
from gameday.lab.ingest_api import LAB_SERVICE
from gameday.operations import DATA_FAULTS
from gameday.restore.damage import run_damage, statement_for
from gameday.restore.models import BackupStatus
from gameday.service.resolved import Service
from gameday.targets.base import DbStatus, EnvironmentStatus, FaultResult, NodeStatus

__all__ = ["LocalTarget"]


class LocalTarget:
    """Drives a running lab. ``state_dir`` says which one (default ``.gameday/lab``)."""

    def __init__(self, env: Environment, *, state_dir: Path = DEFAULT_DIR) -> None:
        assert env.lab is not None
        self.env = env
        self.name = env.name
        self.state_dir = Path(state_dir)
        self._client: LabClient | None = None
        self._service: Service | None = None

    @property
    def client(self) -> LabClient:
        if self._client is None:
            self._client = LabClient(self.state_dir)
        return self._client

    def _op(self, name: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return self.client.op(name, **kwargs)
        except LabError as exc:
            raise DriverError(f"lab {name}: {exc}") from exc

    def _fault(self, name: str, **kwargs: Any) -> FaultResult:
        t_call = time.time()
        detail = self._op(name, **kwargs)
        return FaultResult(float(detail.get("t_applied") or t_call), detail)

    def fail_zone(self, zone: str) -> FaultResult:
        return self._fault("fail_zone", zone=zone)

    def freeze_zone(self, zone: str) -> FaultResult:
        return self._fault("freeze_zone", zone=zone)

    def restore_zone(self, zone: str) -> dict[str, Any]:
        return self._op("restore_zone", zone=zone)  # the lab restores its whole shape

    def interrupt_spot(self, count: int = 1, zone: str | None = None) -> FaultResult:
        return self._fault("interrupt_spot", count=count, zone=zone)

    def fail_over_db(self) -> FaultResult:
        return self._fault("fail_over_db")

    def fail_cache_primary(self) -> FaultResult:
        return self._fault("fail_cache_primary")

    def cache_url(self) -> str | None:
        """The cache's primary endpoint (None: the lab has no cache)."""
        cache = self.describe().get("cache")
        return None if not cache else str(cache["primary_endpoint"])

    def fail_region(self, region: str) -> FaultResult:
        return self._fault("fail_region", region=region)

    def delay_link(self, ms: float) -> FaultResult:
        return self._fault("delay_link", ms=ms)

    def inject_latency(self, ms: float = 0.0, stall_s: float = 0.0) -> FaultResult:
        return self._fault("inject_latency", ms=ms, stall_s=stall_s)

    def restore(self) -> dict[str, Any]:
        return self._op("restore")

    # ---- restore drills: the data faults run the service description's statement through the writer ------
    def corrupt_data(self, max_rows: int = 200) -> FaultResult:
        return self._damage("corrupt_data", max_rows)

    def delete_data(self, max_rows: int = 200) -> FaultResult:
        return self._damage("delete_data", max_rows)

    def _damage(self, fault: str, max_rows: int) -> FaultResult:
        return FaultResult(*run_damage(self.writer_dsn(), statement_for(self.service().spec, fault), max_rows, fault=fault))

    def restore_point_in_time(self, to: float | str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
        return self._op("restore_point_in_time", to=to, instance=instance)

    def restore_snapshot(self, snapshot: str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
        return self._op("restore_snapshot", snapshot=snapshot, instance=instance)

    def verify_restore(self, instance: str = "gameday-restore") -> dict[str, Any]:
        """Where the restored instance answers: the ledger check itself is gameday.restore.verify's."""
        found = self._op("verify_restore", instance=instance)
        return {"instance": instance, "dsn": _dsn(int(found["port"]))}

    def swap_writer(self, instance: str = "gameday-restore") -> dict[str, Any]:
        return self._op("swap_writer", instance=instance)

    def discard_restore(self, instance: str = "gameday-restore") -> dict[str, Any]:
        return self._op("discard_restore", instance=instance)

    def backup_status(self) -> BackupStatus:
        return BackupStatus.model_validate(self.describe()["backups"])

    def check_stop_conditions(self) -> None:
        """The lab's stop conditions are judged on the load by the chaos control; nothing to check here."""

    def preflight(self, name: str, args: dict[str, Any]) -> None:
        """Nothing the lab can do cuts off the machine it runs on; a data fault needs its statement."""
        if name in DATA_FAULTS:
            statement_for(self.service().spec, name)

    def promote_dr_db(self) -> dict[str, Any]:
        return self._op("promote_dr_db")

    def promote_cache(self) -> dict[str, Any]:
        return self._op("promote_cache")

    def return_primary_cache(self) -> dict[str, Any]:
        return self._op("return_primary_cache")

    def switch_dns(self, region: str) -> dict[str, Any]:
        return self._op("switch_dns", region=region)

    def scale_dr(self, count: int) -> dict[str, Any]:
        return self._op("scale_dr", count=count)

    def drain_zone(self, zone: str) -> dict[str, Any]:
        return self._op("drain_zone", zone=zone)

    def rebuild_primary_region(self) -> dict[str, Any]:
        return self._op("rebuild_primary_region")

    def return_primary_db(self) -> dict[str, Any]:
        return self._op("return_primary_db")

    def rebuild_dr_db(self) -> dict[str, Any]:
        return self._op("rebuild_dr_db")

    def run_region_switch_plan(self, region: str, action: str = "activate", mode: str = "ungraceful") -> dict[str, Any]:
        raise ConfigError("ARC Region switch is AWS-only: the lab has no Region switch plan", field="call")

    def consumer_lag(self) -> dict[str, Any] | None:
        return None  # the lab has no stream

    def describe(self) -> dict[str, Any]:
        """The lab's own status (every process, replication, endpoints)."""
        return self.client.status()

    def status(self) -> EnvironmentStatus:
        return lab_environment_status(self.describe())

    def service(self) -> Service:
        """The environment's ``service:`` (the lab's own ingest API when absent), at the lab's public endpoint."""
        if self._service is None:
            spec = self.env.service or LAB_SERVICE
            self._service = Service.resolve(spec, url=self.public_endpoint(), ca_file=self.client.ca_file)
        return self._service

    def public_endpoint(self) -> str:
        return self.client.public_endpoint

    def regions(self) -> tuple[str, str]:
        r = self.env.lab.regions  # type: ignore[union-attr]
        return r.primary, r.dr

    def writer_dsn(self, region: str | None = None) -> str:
        st = self.describe()
        port = st["writer_endpoints"][region or st["regions"]["primary"]]["port"]
        return _dsn(port)

    def primary_dsn(self) -> str:
        """The instance that holds the writes now (after any failover or promotion)."""
        st = self.describe()
        swapped = [r for r in st.get("backups", {}).get("restored_instances", []) if r.get("swapped")]
        if swapped:  # a restored instance the writer endpoint points at holds the writes now
            return _dsn(int(swapped[0]["port"]))
        prims = [p for p in st["processes"] if p["kind"] == "db" and p["role"] == "primary"]
        if not prims:
            raise DriverError("no DB instance is primary")
        if len(prims) > 1:  # the promoted DR replica wins over nothing else alive; otherwise ambiguous
            dr = [p for p in prims if p["region"] == st["regions"]["dr"]]
            prims = dr if st["dr_promoted"] and dr else prims[:1]
        return _dsn(int(prims[0]["port"]))


def _dsn(port: int) -> str:
    return f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=2"


def lab_environment_status(st: dict[str, Any]) -> EnvironmentStatus:
    """The typed status from the lab's own (``gameday lab status --json``)."""
    procs = st["processes"]
    nodes = [NodeStatus(name=p["name"], region=p["region"], zone=p["zone"], capacity_type=p["capacity_type"],
                        healthy=p["health"] == "healthy") for p in procs if p["kind"] == "node"]
    dbs = [DbStatus(name=p["name"], region=p["region"], zone=p["zone"], role=p["role"], port=p["port"])
           for p in procs if p["kind"] == "db"]
    return EnvironmentStatus(primary_region=st["regions"]["primary"], dr_region=st["regions"]["dr"],
                             zones=list(st["zones"]), nodes=nodes, dbs=dbs, dns_region=st["dns"]["answer"],
                             dr_promoted=bool(st["dr_promoted"]),
                             cache_dr_promoted=None if not st.get("cache") else bool(st["cache"]["dr_promoted"]))
