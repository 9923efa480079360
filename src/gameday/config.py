"""Models of the files users write (environments/, drills/, runbooks/) and their loading.

Every error a user can cause names the file, the field and what was expected, and is raised
before anything is started or changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from gameday.config_aws import AwsSettings
from gameday.errors import ConfigError
from gameday.schema import Strict
from gameday.service.spec import LabServiceSpec, ServiceSpec

__all__ = [
    "Strict", "LabRegions", "NodeCounts", "LinkSettings", "RdsSettings", "CacheSettings", "HealthCheckSettings",
    "BackupSettings",
    "LabSettings", "StopConditions", "Environment", "load_yaml_model", "load_environment", "check_service",
]

M = TypeVar("M", bound=BaseModel)


class LabRegions(Strict):
    primary: str = "us-east-1"
    dr: str = "us-west-2"
    zones: list[str] = Field(default_factory=lambda: ["a", "b", "c"], min_length=2)
    dr_zones: list[str] = Field(default_factory=lambda: ["a"], min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> LabRegions:
        if self.primary == self.dr:
            raise ValueError("primary and dr must be different regions")
        if len(set(self.zones)) != len(self.zones):
            raise ValueError("zones must be distinct")
        return self


class NodeCounts(Strict):
    on_demand_per_zone: int = Field(1, ge=0, le=8)
    spot_per_zone: int = Field(1, ge=0, le=8)
    dr_warm: int = Field(1, ge=1, le=8)
    dr_scaled: int = Field(3, ge=1, le=16)

    @model_validator(mode="after")
    def _enough(self) -> NodeCounts:
        if self.on_demand_per_zone + self.spot_per_zone < 1:
            raise ValueError("each zone needs at least one node")
        if self.dr_scaled < self.dr_warm:
            raise ValueError("dr_scaled must be >= dr_warm")
        return self


class LinkSettings(Strict):
    delay_ms: float = Field(50.0, ge=0, le=60_000)


class RdsSettings(Strict):
    check_interval_s: float = Field(0.2, gt=0, le=30)
    failures_to_detect: int = Field(3, ge=1, le=100)
    promote_delay_s: float = Field(0.5, ge=0, le=600)
    standby_loss_s: float = Field(1.0, ge=0, le=600)
    # Each instance's max_connections. The default is what RDS's formula LEAST(DBInstanceClassMemory/9531392,
    # 5000) gives a db.t4g.medium (4 GiB); 13 of them are the control plane's (reserved), the rest the app's.
    max_connections: int = Field(450, ge=20, le=5000)


class CacheSettings(Strict):
    """The lab's ElastiCache replication group (Valkey: a primary, a replica, a sentinel per zone)."""

    enabled: bool = True
    down_after_ms: int = Field(500, ge=100, le=60_000, description="sentinels call the primary down after this")
    failover_timeout_ms: int = Field(3000, ge=500, le=600_000)
    # the lab's ingest API keeps idempotency keys in the cache, failing closed (a write whose key it cannot
    # record is refused: its clients feel a cache failover): those of requests sending an Idempotency-Key
    # header ("header"), or of every batch, keyed by its first event id ("every-batch"). A hosted service
    # gets the primary endpoint as {{cache_url}} either way.
    idempotency_keys: Literal["header", "every-batch"] = "header"


class BackupSettings(Strict):
    """The lab's RDS backups (lab seconds): WAL archived continuously to the region's backup folder (its "S3
    bucket"), copied to the DR region's on a schedule, and scheduled base backups kept as snapshots."""

    enabled: bool = True
    archive_timeout_s: float = Field(1.0, ge=1, le=3600, description="a WAL segment is archived at least this often")
    base_backup_every_s: float = Field(1440.0, ge=5, le=86_400, description="RDS's daily backup at the lab's 60x")
    dr_copy_every_s: float = Field(5.0, ge=0.5, le=86_400, description="the cross-region copy's schedule")
    keep_snapshots: int = Field(7, ge=1, le=100)
    restore_timeout_s: float = Field(120.0, ge=5, le=3600, description="a restore that takes longer fails")
    seed_rows: int = Field(2000, ge=0, le=1_000_000, description="historical rows written before the first "
                           "snapshot (an accidental delete hits the oldest)")


class HealthCheckSettings(Strict):
    interval_s: float = Field(0.5, gt=0, le=30)
    timeout_s: float = Field(0.4, gt=0, le=30)
    unhealthy_threshold: int = Field(2, ge=1, le=10)
    healthy_threshold: int = Field(2, ge=1, le=10)


class LabSettings(Strict):
    regions: LabRegions = LabRegions()
    nodes: NodeCounts = NodeCounts()
    link: LinkSettings = LinkSettings()
    rds: RdsSettings = RdsSettings()
    cache: CacheSettings = CacheSettings()
    backups: BackupSettings = BackupSettings()
    health_check: HealthCheckSettings = HealthCheckSettings()
    dns_ttl_s: float = Field(1.0, ge=0, le=3600)
    spot_notice_s: float = Field(1.0, ge=0, le=600)
    spot_replace_delay_s: float = Field(2.0, ge=0, le=600)
    db_pool_size: int = Field(4, ge=1, le=32)
    # Writes one lab ingest node works on at once (a pod's worker concurrency); more wait in its queue. A node
    # then serves at most node_workers / service time writes per second, so latency inside it lowers capacity.
    node_workers: int = Field(8, ge=1, le=4096)
    # How long a fault's effect may take to show to clients here, in lab seconds (not scaled): the lab's
    # processes die at once (a spot node after its notice, added to this), so AWS's propagation windows do not apply.
    effect_within_s: float = Field(1.0, gt=0, le=600)
    service: LabServiceSpec | None = None  # the team's own service as the ingest nodes (default: the lab's)


class StopConditions(Strict):
    """Hard limits checked every second while an experiment runs; a breach sustained ``for_s`` aborts it
    (rollbacks play, exit 4). On the lab they are judged on the background load's progress."""

    max_error_ratio: float = Field(0.99, ge=0, le=1)
    max_p95_ms: float | None = Field(None, gt=0)
    window_s: float = Field(5.0, ge=1, le=300)
    for_s: float = Field(20.0, ge=0, le=3600)


class Environment(Strict):
    name: str = Field(min_length=1)
    kind: Literal["local", "aws"]
    protected: bool = False
    # Runbook budgets and drill time targets are written in real (AWS) seconds; a miniature
    # environment runs them compressed: 1/60 makes a real minute a lab second.
    time_scale: float = Field(1.0, gt=0, le=1)
    # On-call rehearsals give a person human time: budgets, waits and targets at this scale (default a fifth
    # of real time: the region runbook's ~29 min becomes ~6 min).
    rehearsal_time_scale: float = Field(0.2, gt=0, le=1)
    stop_conditions: StopConditions | None = None
    lab: LabSettings | None = None
    aws: AwsSettings | None = None
    service: ServiceSpec | None = None  # the team's data plane; absent: the lab's own ingest API

    @model_validator(mode="after")
    def _driver_settings(self) -> Environment:
        if self.kind == "local" and self.lab is None:
            raise ValueError("kind 'local' needs a 'lab' section")
        if self.kind == "aws" and self.aws is None:
            raise ValueError("kind 'aws' needs an 'aws' section")
        return self


def _field_path(loc: tuple[object, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_yaml_model(path: str | Path, model: type[M]) -> M:
    """Read a YAML file into ``model``; any problem is a ConfigError naming file and field."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=str(path), field=where) from None
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping at the top level", file=str(path))
    try:
        return model.model_validate(data, context={"file": str(path)})  # context: for messages naming the file
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key is an unknown field and a missing one at once: the unknown one says what to fix
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        expected = err["msg"].removeprefix("Value error, ")  # pydantic's prefix for a validator's own message
        if err["type"] == "extra_forbidden":
            expected = "unknown field"
        elif err["type"] == "missing":
            expected = "required field is missing"
        elif err.get("input", ...) is None:  # `field: null`: what `gameday init --aws` writes for a TODO left undecided
            expected = f"no value (null), one is needed: {expected}"
        raise ConfigError(f"{expected}{more}", file=str(path), field=_field_path(tuple(err["loc"]))) from None


def load_environment(path: str | Path) -> Environment:
    """Load and validate an environment file (environments/*.yaml), its service description included:
    templates and placeholders are checked here; ``${VAR}`` is checked by every command that runs the
    service (``check_service``), before it starts anything."""
    env = load_yaml_model(path, Environment)
    if env.lab is not None and env.lab.service is not None:
        from gameday.service.checks import check_lab_service
        from gameday.service.resolved import ANY_VARIABLE

        check_lab_service(env.lab.service, str(path), environ=ANY_VARIABLE)
    if env.service is not None:
        from gameday.service.resolved import ANY_VARIABLE, Service

        url = env.aws.public_url if env.aws is not None else "http://127.0.0.1"
        Service.resolve(env.service, url=url, file=str(path), environ=ANY_VARIABLE)
        _check_store_regions(env, str(path))
    return env


def _check_store_regions(env: Environment, path: str) -> None:
    """``service.store.dsn`` per region: the heartbeat uses the primary region's, reconciliation the region
    holding the writer; a region the environment does not have is a typo that would silently fall back."""
    assert env.service is not None
    dsn = env.service.store.dsn if env.service.store is not None else None
    if not isinstance(dsn, dict):
        return
    regions = ((env.aws.primary_region, env.aws.dr_region) if env.aws is not None
               else (env.lab.regions.primary, env.lab.regions.dr) if env.lab is not None else ())
    for region in dsn:
        if region not in regions:
            raise ConfigError(f"unknown region {region!r}; expected one of: {', '.join(regions)}", file=path,
                              field=f"service.store.dsn.{region}")


def check_service(env: Environment, path: str | Path) -> None:
    """The service description with the process environment: an unset ``${VAR}`` is a ConfigError (exit 2)
    naming the file and field. Called by drills, gates and experiments before they start anything."""
    if env.service is not None:
        from gameday.service.resolved import Service

        url = env.aws.public_url if env.aws is not None else "http://127.0.0.1"
        Service.resolve(env.service, url=url, file=str(path))

