"""The local driver: the Target interface on the embedded lab, through its control API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gameday.config import Environment
from gameday.errors import DriverError, LabError
from gameday.lab.control import DEFAULT_DIR, LabClient

__all__ = ["LocalTarget"]


class LocalTarget:
    """Drives a running lab. ``state_dir`` says which one (default ``.gameday/lab``)."""

    def __init__(self, env: Environment, *, state_dir: Path = DEFAULT_DIR) -> None:
        assert env.lab is not None
        self.env = env
        self.name = env.name
        self.state_dir = Path(state_dir)
        self._client: LabClient | None = None

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

    def fail_zone(self, zone: str) -> dict[str, Any]:
        return self._op("kill_zone", zone=zone)

    def freeze_zone(self, zone: str) -> dict[str, Any]:
        return self._op("freeze_zone", zone=zone)

    def restore_zone(self, zone: str) -> dict[str, Any]:
        return self._op("restore")  # the lab restores its whole shape: zones are not independent there

    def interrupt_spot(self, count: int = 1, zone: str | None = None) -> dict[str, Any]:
        return self._op("interrupt_spot", count=count, zone=zone)

    def fail_over_db(self) -> dict[str, Any]:
        return self._op("kill_db_primary")

    def fail_region(self, region: str) -> dict[str, Any]:
        return self._op("kill_region", region=region)

    def delay_link(self, ms: float) -> dict[str, Any]:
        return self._op("link_delay", ms=ms)

    def restore(self) -> dict[str, Any]:
        return self._op("restore")

    def inject_latency(self, ms: float = 0.0, stall_s: float = 0.0) -> dict[str, Any]:
        return self._op("ingest_latency", ms=ms, stall_s=stall_s)

    def promote_dr_db(self) -> dict[str, Any]:
        return self._op("promote_dr_db")

    def switch_dns(self, region: str) -> dict[str, Any]:
        return self._op("switch_dns", region=region)

    def scale_dr(self, count: int) -> dict[str, Any]:
        return self._op("scale_dr", count=count)

    def describe(self) -> dict[str, Any]:
        return self.client.status()

    def public_endpoint(self) -> str:
        return self.client.public_endpoint

    def regions(self) -> tuple[str, str]:
        r = self.env.lab.regions  # type: ignore[union-attr]
        return r.primary, r.dr

    def writer_dsn(self, region: str | None = None) -> str:
        st = self.describe()
        port = st["writer_endpoints"][region or st["regions"]["primary"]]["port"]
        return f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=2"

    def primary_dsn(self) -> str:
        """The instance that holds the writes now (after any failover or promotion)."""
        st = self.describe()
        prims = [p for p in st["processes"] if p["kind"] == "db" and p["role"] == "primary"]
        if not prims:
            raise DriverError("no DB instance is primary")
        if len(prims) > 1:  # the promoted DR replica wins over nothing else alive; otherwise ambiguous
            dr = [p for p in prims if p["region"] == st["regions"]["dr"]]
            prims = dr if st["dr_promoted"] and dr else prims[:1]
        return f"host=127.0.0.1 port={prims[0]['port']} user=postgres dbname=postgres connect_timeout=2"
