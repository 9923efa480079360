"""The AWS environment file's model (environments/aws-staging.example.yaml)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, model_validator

from gameday.schema import Strict

__all__ = ["AliasTarget", "ArcEndpoint", "ArcRoutingControl", "AwsSettings", "ConsumerLag", "DnsMode", "EksSettings",
           "RdsRefs", "RegionSwitchPlan", "Route53Record", "TagFilter"]


class TagFilter(Strict):
    key: str = Field(min_length=1)
    value: str = Field(min_length=1)


class EksSettings(Strict):
    cluster: str
    kube_context: str | None = None
    zone_label: str = "topology.kubernetes.io/zone"
    capacity_label: str = "karpenter.sh/capacity-type"
    ingest_namespace: str = "ingest"
    ingest_deployment: str = "trip-ingest"


class RdsRefs(Strict):
    instance_id: str | None = None  # RDS PostgreSQL (Multi-AZ instance)
    cluster_id: str | None = None  # or Aurora
    dr_replica_id: str | None = None  # cross-region read replica in the DR region
    global_cluster_id: str | None = None  # Aurora Global Database: cluster_id is its primary-region cluster
    dr_cluster_id: str | None = None  # ... and this its secondary cluster in the DR region
    database: str = "postgres"
    user: str = "gameday"
    password_env: str = "GAMEDAY_DB_PASSWORD"  # read by the CLI only; never logged
    # how the runner reaches an instance a restore drill created (a tunnel, a bastion): a libpq conninfo in which
    # {host}, {port} and {instance} are the restored instance's, ${VAR} from the process environment (a password);
    # default: its endpoint with user, database and the password_env password
    restored_dsn: str | None = None

    @model_validator(mode="after")
    def _one(self) -> RdsRefs:
        if not (self.instance_id or self.cluster_id):
            raise ValueError("give instance_id (RDS) or cluster_id (Aurora)")
        if self.global_cluster_id and not (self.cluster_id and self.dr_cluster_id):
            raise ValueError("an Aurora global database (global_cluster_id) needs cluster_id and dr_cluster_id")
        return self


class AliasTarget(Strict):
    """An alias record's target (an ALB/NLB, a CloudFront distribution, another record of the zone): its DNS
    name and the hosted zone of that name (an ALB's canonical hosted zone, e.g. Z35SXDOTRQ7X7K in us-east-1)."""
    dns_name: str = Field(min_length=1)
    hosted_zone_id: str = Field(min_length=1)
    evaluate_target_health: bool = False


class ArcEndpoint(Strict):
    endpoint: str = Field(pattern=r"^https?://")
    region: str


class ArcRoutingControl(Strict):
    """Route 53 ARC: the cluster's regional endpoints (tried in order) and the routing control of each
    region's cell; switching turns the DR's On and the primary's Off in one call (safety rules apply)."""
    cluster_endpoints: list[ArcEndpoint] = Field(min_length=1)
    primary_control_arn: str = Field(min_length=1)
    dr_control_arn: str = Field(min_length=1)


DnsMode = Literal["simple", "alias", "failover", "weighted", "arc_routing_control"]
_NEEDS: dict[str, tuple[str, ...]] = {
    "simple": ("hosted_zone_id", "primary_value", "dr_value"),
    "alias": ("hosted_zone_id", "primary_alias", "dr_alias"),
    "failover": ("hosted_zone_id", "primary_health_check_id"),
    "weighted": ("hosted_zone_id",),
    "arc_routing_control": ("arc",),
}


class Route53Record(Strict):
    """How the service's name moves to the DR region (``mode``; docs/monthly-drill.md "DNS modes"):

    - ``simple``: one record (CNAME/A) whose value is UPSERTed (``primary_value`` / ``dr_value``);
    - ``alias``: one alias record whose AliasTarget is UPSERTed (``primary_alias`` / ``dr_alias``);
    - ``failover``: the PRIMARY/SECONDARY pair stays; the primary's health check is inverted (and put back), or
      with ``failover_switch: records`` the pair is edited: the two records swap PRIMARY and SECONDARY (and back);
    - ``weighted``: the two weighted records (``primary_set_identifier`` / ``dr_set_identifier``) get weight
      0 / ``primary_weight`` on the switch and ``primary_weight`` / ``dr_weight`` back;
    - ``arc_routing_control``: Route 53 ARC routing controls (``arc``); no record is touched."""
    mode: DnsMode = "simple"
    hosted_zone_id: str | None = None
    name: str
    type: str = "CNAME"
    ttl: int = Field(60, ge=1)
    primary_value: str | None = None
    dr_value: str | None = None
    primary_alias: AliasTarget | None = None
    dr_alias: AliasTarget | None = None
    primary_set_identifier: str = "primary"
    dr_set_identifier: str = "secondary"
    primary_health_check_id: str | None = None
    failover_switch: Literal["health_check", "records"] = "health_check"  # failover mode: how the switch is made
    primary_weight: int = Field(100, ge=1, le=255)  # the weights outside a drill
    dr_weight: int = Field(0, ge=0, le=255)
    arc: ArcRoutingControl | None = None

    @model_validator(mode="after")
    def _mode(self) -> Route53Record:
        missing = [f for f in _NEEDS[self.mode] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"mode {self.mode} needs {', '.join(missing)}")
        return self


class RegionSwitchPlan(Strict):
    """ARC Region switch: the team's plan a ``run_region_switch_plan`` runbook step executes."""
    plan_arn: str = Field(pattern=r"^arn:aws[a-zA-Z-]*:arc-region-switch::\d{12}:plan/.+$")


class ConsumerLag(Strict):
    """MSK consumer lag (CloudWatch ``AWS/Kafka``: ``MaxOffsetLag``, ``EstimatedMaxTimeLag``) of one consumer
    group on one topic: observed through the drill and usable by a ``consumer_lag_below`` wait."""
    consumer_group: str = Field(min_length=1)
    topic: str = Field(min_length=1)
    cluster_name: str | None = None  # the metrics' "Cluster Name"; default: the name in msk_cluster_arn
    period_s: int = Field(60, ge=60, le=3600)  # MSK publishes the consumer-lag metrics once a minute
    observe_every_s: float = Field(60.0, ge=1, le=3600)  # how often the drill journals a reading


class AwsSettings(Strict):
    account_id: str = Field(pattern=r"^\d{12}$")
    primary_region: str
    dr_region: str
    zones: list[str] = Field(min_length=2)
    profile: str | None = None
    role_arn: str | None = Field(None, pattern=r"^arn:aws:iam::\d{12}:role/.+$")
    tag_filter: TagFilter
    eks: dict[str, EksSettings] = Field(default_factory=dict)  # region -> cluster
    rds: RdsRefs
    # the cache tier: the ElastiCache replication groups carrying the tag filter (the primary region's; the DR
    # region's, a Global Datastore secondary, for promote_cache); elasticache_replication_group names the
    # primary region's when several carry it (setting it alone also enables the cache tier)
    elasticache: bool = False
    elasticache_replication_group: str | None = None
    # fail_cache_primary by FIS instead of TestFailover: a template with aws:elasticache:replicationgroup-interrupt-az-power
    fis_cache_template_id: str | None = None
    msk_cluster_arn: str | None = None
    msk_consumer_lag: ConsumerLag | None = None
    region_switch: RegionSwitchPlan | None = None
    route53: Route53Record
    public_url: str
    stop_condition_alarms: list[str] = Field(default_factory=list)
    fis_az_template_id: str | None = None
    fis_spot_template_id: str | None = None
    blackhole_network: bool = False
    dr_node_group_asg: str | None = None
    dr_scaled_replicas: int = Field(3, ge=1)
    # region isolation (fail_region): an FIS cross-region-connectivity or multi-AZ scenario instead of the NACLs
    fis_region_template_id: str | None = None
    # the runner's own addresses besides its interfaces' (a NAT or proxy address): the lockout guard refuses to
    # isolate a subnet holding any of them
    runner_addresses: list[str] = Field(default_factory=list)
    # waits: every action waits for its effect, polling every waiter_delay_s, at most the step's timeout_s
    # (wait_timeout_s when the step gives none)
    waiter_delay_s: float = Field(15.0, gt=0, le=300)
    wait_timeout_s: float = Field(1800.0, gt=0, le=7200)
    spot_nodes_per_zone: int | None = Field(None, ge=0)  # what spot_capacity_restored expects per zone

    @model_validator(mode="after")
    def _regions(self) -> AwsSettings:
        if self.primary_region == self.dr_region:
            raise ValueError("primary_region and dr_region must differ")
        bad = [z for z in self.zones if not z.startswith(self.primary_region)]
        if bad:
            raise ValueError(f"zones must be in {self.primary_region}: {bad}")
        lag = self.msk_consumer_lag
        if lag is not None and not (lag.cluster_name or self.msk_cluster_arn):
            raise ValueError("msk_consumer_lag needs cluster_name (or msk_cluster_arn)")
        for a in self.runner_addresses:
            try:
                ipaddress.ip_address(a)
            except ValueError:
                raise ValueError(f"runner_addresses: {a!r} is not an IP address") from None
        return self
