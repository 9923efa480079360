"""The description of a team's data plane: the ``service:`` section of an environment file.

Load, the synthetic probe, the heartbeat and the reconciliation all follow it, on the lab and on AWS.
An absent section means the lab's own ingest API (``gameday.lab.ingest_api``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from gameday.schema import Strict

__all__ = ["TlsSpec", "WriteSpec", "ReadSpec", "StoreSpec", "ServiceSpec", "LabServiceSpec"]

Method = Literal["GET", "POST", "PUT", "PATCH"]


class TlsSpec(Strict):
    verify: bool = True  # false: accept any certificate (self-signed staging)
    ca_file: str | None = None  # a CA bundle (PEM) to verify the server with


class WriteSpec(Strict):
    """One request carrying a batch of events (load and probe)."""

    method: Method = "POST"
    path: str = Field(pattern=r"^/")
    body: str = Field(min_length=1, description="{{events}}: the batch's events joined by commas")
    event: str = Field(min_length=1, description="one event; {{event_id}} or {{event_uuid}} makes it unique")
    ok: list[int] = Field(default_factory=lambda: [200, 201, 202], min_length=1)
    content_type: str = "application/json"


class ReadSpec(Strict):
    """The probe's read-back of one event just written."""

    method: Method = "GET"
    path: str = Field(pattern=r"^/")
    ok: list[int] = Field(default_factory=lambda: [200], min_length=1)
    within_s: float = Field(0.0, ge=0, le=60, description="asynchronous services: the read is asked again (a bounded "
                            "number of times) until it answers ok or this long after the write was acknowledged")
    intact: str | None = Field(None, description="restore drills: a regular expression the body of a record's read "
                               "matches only when its data is correct (a damaged record answers ok without it)")


class StoreSpec(Strict):
    """Where acknowledged events land, and how to ask which of them are there."""

    present_query: str = Field(min_length=1, description="receives %(ids)s, returns the present ids first")
    settle_s: float = Field(0.0, ge=0, le=3600, description="async pipelines: poll until no new ids appear")
    dsn: str | dict[str, str] | None = None  # one DSN, or one per region; default: the Target's writer endpoint
    # Restore drills (docs/restore.md): the destructive statements the data faults run on the writer, once, in a
    # transaction, given %(max_rows)s, returning the damaged ids first (RETURNING); the operator confirms them.
    corrupt_statement: str | None = Field(None, description="corrupt_data: an UPDATE ... SET col = NULL ... RETURNING id")
    delete_statement: str | None = Field(None, description="delete_data: a DELETE ... RETURNING id")

    @field_validator("present_query")
    @classmethod
    def _ids_parameter(cls, v: str) -> str:
        if "%(ids)s" not in v:
            raise ValueError("present_query must take the ids as %(ids)s")
        return v


class CacheSpec(Strict):
    """The cache the service depends on, for gameday to watch (a drill's cache probe and heartbeat) when the
    environment's own (the lab's replication group, the AWS group its tags resolve) is not the one."""

    url: str = Field(min_length=1, description="redis:// or rediss:// (TLS), the primary endpoint; ${VAR} allowed")
    tls: bool = False  # TLS with a redis:// URL too (ElastiCache in-transit encryption)
    auth_token: str | None = Field(None, description="the AUTH token, e.g. ${CACHE_AUTH_TOKEN}; never printed")


class ServiceSpec(Strict):
    url: str | None = None  # optional on the lab: its public endpoint is used
    cache: CacheSpec | None = None
    tls: TlsSpec = TlsSpec()
    headers: dict[str, str] = Field(default_factory=dict)
    write: WriteSpec
    read: ReadSpec | None = None  # without it, the probe is a write alone
    store: StoreSpec | None = None  # without it: no reconciliation (a gate needs none; a drill's RPO is the heartbeat's)
    heartbeat_table: str = Field("gameday.heartbeat", pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class LabServiceSpec(Strict):
    """The team's own service binary, run as every ingest node of the lab."""

    setup: list[str] | None = None  # once, against the primary, before the nodes start
    command: list[str] = Field(min_length=1)
    health_path: str = Field("/healthz", pattern=r"^/")
    tls: bool = False  # the lab makes a self-signed certificate: {{tls_cert}}, {{tls_key}}
    env: dict[str, str] = Field(default_factory=dict)
    stop_grace_s: float = Field(2.0, ge=0, le=120, description="SIGTERM, then SIGKILL after this long")
