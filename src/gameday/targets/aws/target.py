"""AwsTarget: the Target interface on AWS (EKS, RDS/Aurora, ElastiCache, MSK, Route 53), with guardrails:
the caller's account must be the environment's, only resources carrying the tag filter are touched,
a target that resolves to nothing is an error, a protected environment needs confirmation, and
stop-condition alarms in ALARM refuse a fault."""

from __future__ import annotations

import time
import uuid
from typing import Any

from gameday.config import Environment
from gameday.errors import Aborted, ConfigError, DriverError
from gameday.service.resolved import Service
from gameday.targets.aws import asg, ec2, rds, services
from gameday.targets.aws.k8s import Kube
from gameday.targets.aws.session import Actions, AwsSession, translate
from gameday.targets.base import DbStatus, EnvironmentStatus, FaultResult, NodeStatus

__all__ = ["AwsTarget"]


class AwsTarget:
    def __init__(self, env: Environment, *, confirm: str | None = None, plan_only: bool = False,
                 kube_clients: dict[str, Any] | None = None, db_password: str | None = None) -> None:
        if env.aws is None:
            raise ConfigError("the environment has no 'aws' section", field="aws")
        if env.protected and confirm != env.name:
            raise ConfigError(f"environment '{env.name}' is protected: pass --confirm {env.name}", field="--confirm")
        self.env, self.name, self.settings = env, env.name, env.aws
        self.session = AwsSession(env.aws)
        self.actions = Actions(plan_only=plan_only)
        self.run_id = uuid.uuid4().hex[:10]
        self._kube_clients = kube_clients
        self._kubes: dict[str, Kube] = {}
        self.db_password = db_password
        self.check_account()

    # ---- guardrails -----------------------------------------------------------------------------
    def check_account(self) -> str:
        try:
            account = self.session.client("sts").get_caller_identity()["Account"]
        except Exception as exc:  # noqa: BLE001 - translated once, here
            raise translate(exc, "sts:GetCallerIdentity") from exc
        if account != self.settings.account_id:
            raise ConfigError(f"the credentials belong to account {account}, the environment to "
                              f"{self.settings.account_id}: refusing to run", field="aws.account_id")
        return account

    def check_stop_conditions(self) -> None:
        """Raise Aborted when a stop-condition alarm is in ALARM (checked before every fault and step)."""
        firing = services.alarms_in_alarm(self.session)
        if firing:
            raise Aborted(f"stop-condition alarms in ALARM: {', '.join(firing)}")

    def kube(self, region: str) -> Kube | None:
        eks = self.settings.eks.get(region)
        if eks is None:
            return None
        if region not in self._kubes:
            if self._kube_clients is not None:
                api = self._kube_clients[region]
            else:
                from kubernetes import config

                api = config.new_client_from_config(context=eks.kube_context)
            self._kubes[region] = Kube(api, eks.zone_label, eks.capacity_label)
        return self._kubes[region]

    # ---- faults -----------------------------------------------------------------------------------
    def fail_zone(self, zone: str) -> FaultResult:
        if zone not in self.settings.zones:
            raise ConfigError(f"unknown zone {zone!r}; expected one of: {', '.join(self.settings.zones)}", field="zone")
        self.check_stop_conditions()
        ec2.zone_instances(self.session, zone)  # resolve before any change: nothing to touch is an error
        t = time.time()
        s, a, out = self.session, self.actions, {"zone": zone, "t_applied": t}
        if self.settings.fis_az_template_id:
            out["fis_experiment"] = services.start_fis(s, a, self.settings.fis_az_template_id, self.run_id)
            return FaultResult(t, out)
        k = self.kube(self.settings.primary_region)
        if k is not None:
            out.update(k.cordon_and_drain(a, k.nodes(zone=zone)))
        out["asgs"] = asg.exclude_zone(s, a, zone)
        out["stopped"] = ec2.stop_zone_instances(s, a, zone, self.run_id)
        if self.settings.blackhole_network:
            out["blackholed_subnets"] = ec2.blackhole_zone(s, a, zone)
        if rds.writer_zone(s) == zone:
            out["db_failover"] = rds.fail_over(s, a)
        out["elasticache_failovers"] = services.elasticache_failover_in_zone(s, a, zone)
        out["msk_rebooted_brokers"] = services.msk_reboot_brokers_in_zone(s, a, zone)
        return FaultResult(t, out)

    def freeze_zone(self, zone: str) -> FaultResult:
        if not self.settings.blackhole_network:
            raise ConfigError("a zone partition on AWS is the NACL blackhole: set aws.blackhole_network", field="aws")
        t = time.time()
        return FaultResult(t, {"zone": zone, "blackholed_subnets": ec2.blackhole_zone(self.session, self.actions, zone)})

    def restore_zone(self, zone: str) -> dict[str, Any]:
        s, a = self.session, self.actions
        out: dict[str, Any] = {"zone": zone, "unblackholed": ec2.unblackhole_zone(s, a, zone),
                               "started": ec2.start_zone_instances(s, a, zone), "asgs": asg.include_zone(s, a)}
        k = self.kube(self.settings.primary_region)
        if k is not None:
            out["uncordoned"] = k.uncordon(a, k.nodes(zone=zone))
        return out

    def interrupt_spot(self, count: int = 1, zone: str | None = None) -> FaultResult:
        self.check_stop_conditions()
        s, a = self.session, self.actions
        if self.settings.fis_spot_template_id:
            t = time.time()
            return FaultResult(t, {"fis_experiment": services.start_fis(s, a, self.settings.fis_spot_template_id,
                                                                         self.run_id)})
        t = time.time()
        out: dict[str, Any] = {}
        k = self.kube(self.settings.primary_region)
        if k is not None:
            nodes = k.nodes(zone=zone, capacity="spot")[:count]
            out.update(k.cordon_and_drain(a, nodes))
        out["terminated"] = ec2.terminate_spot(s, a, count, zone)
        return FaultResult(t, out)

    def fail_over_db(self) -> FaultResult:
        self.check_stop_conditions()
        t = time.time()
        return FaultResult(t, rds.fail_over(self.session, self.actions))

    def fail_region(self, region: str) -> FaultResult:
        raise ConfigError("a whole-region outage is not injected on AWS: run the region drill's runbook against a "
                          "real regional event or an FIS scenario", field="fault")

    def delay_link(self, ms: float) -> FaultResult:
        raise ConfigError("cross-region link delay is a lab-only condition", field="conditions.link_delay_ms")

    def inject_latency(self, ms: float = 0.0, stall_s: float = 0.0) -> FaultResult:
        raise ConfigError("ingest latency injection is a lab-only fault", field="fault")

    def restore(self) -> dict[str, Any]:
        return {z: self.restore_zone(z) for z in self.settings.zones}

    # ---- runbook actions ------------------------------------------------------------------------
    def promote_dr_db(self) -> dict[str, Any]:
        return rds.promote_dr_replica(self.session, self.actions)

    def switch_dns(self, region: str) -> dict[str, Any]:
        if region not in (self.settings.primary_region, self.settings.dr_region):
            raise ConfigError(f"unknown region {region!r}", field="region")
        return services.switch_record(self.session, self.actions, to_dr=region == self.settings.dr_region)

    def scale_dr(self, count: int) -> dict[str, Any]:
        s, a, dr = self.session, self.actions, self.settings.dr_region
        out: dict[str, Any] = {"region": dr, "count": count}
        if self.settings.dr_node_group_asg:
            asg.scale_asg(s, a, self.settings.dr_node_group_asg, dr, count)
        k = self.kube(dr)
        if k is not None:
            eks = self.settings.eks[dr]
            k.scale(a, eks.ingest_namespace, eks.ingest_deployment, self.settings.dr_scaled_replicas)
        return out

    def rebuild_primary_region(self) -> dict[str, Any]:
        raise ConfigError("failback on AWS is not implemented yet", field="call")  # issue 14: being built

    def return_primary_db(self) -> dict[str, Any]:
        raise ConfigError("failback on AWS is not implemented yet", field="call")

    def rebuild_dr_db(self) -> dict[str, Any]:
        raise ConfigError("failback on AWS is not implemented yet", field="call")

    def drain_zone(self, zone: str) -> dict[str, Any]:
        """Cordon and drain the zone's Kubernetes nodes (the balancer stops sending them traffic)."""
        k = self.kube(self.settings.primary_region)
        if k is None:
            raise ConfigError("draining a zone needs the primary region's EKS cluster in aws.eks", field="aws.eks")
        return {"zone": zone, **k.cordon_and_drain(self.actions, k.nodes(zone=zone))}

    # ---- what probes need -----------------------------------------------------------------------
    def service(self) -> Service:
        if self.env.service is None:
            raise ConfigError("describe your service (url, write, read, store) in the environment's 'service:' "
                              "section: gameday drives your API, not the lab's", field="service")
        return Service.resolve(self.env.service, url=self.settings.public_url)

    def public_endpoint(self) -> str:
        return self.settings.public_url

    def regions(self) -> tuple[str, str]:
        return self.settings.primary_region, self.settings.dr_region

    def writer_dsn(self, region: str | None = None) -> str:
        host, port = rds.writer_endpoint(self.session, region)
        r = self.settings.rds
        pw = f" password={self.db_password}" if self.db_password else ""
        return f"host={host} port={port} user={r.user} dbname={r.database} connect_timeout=3{pw}"

    def primary_dsn(self) -> str:
        promoted = services.record_value(self.session) == self.settings.route53.dr_value
        return self.writer_dsn(self.settings.dr_region if promoted else None)

    def status(self) -> EnvironmentStatus:
        """Nodes (tagged EC2 instances of the primary region), the DB writer's zone, the DNS answer."""
        try:
            s, cfg = self.session, self.settings
            nodes = [NodeStatus(name=i["InstanceId"], region=cfg.primary_region, zone=z,
                                capacity_type="spot" if i.get("InstanceLifecycle") == "spot" else "on-demand",
                                healthy=i.get("State", {}).get("Name") == "running")
                     for z in cfg.zones
                     for i in ec2.tagged_instances(s, zone=z, states=("pending", "running", "stopping", "stopped"))]
            writer = rds.writer_zone(s)
            dbs = [DbStatus(name="writer", region=cfg.primary_region, zone=writer, role="primary")] if writer else []
            to_dr = services.record_value(s) == cfg.route53.dr_value
            return EnvironmentStatus(primary_region=cfg.primary_region, dr_region=cfg.dr_region, zones=list(cfg.zones),
                                     nodes=nodes, dbs=dbs, dns_region=cfg.dr_region if to_dr else cfg.primary_region,
                                     dr_promoted=to_dr)
        except DriverError:
            raise
        except Exception as exc:  # noqa: BLE001 - translated once, here
            raise translate(exc, "describe") from exc
