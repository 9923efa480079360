"""AwsTarget: the Target interface on AWS (EKS, RDS/Aurora, ElastiCache, MSK, Route 53), with guardrails: the
caller's account must be the environment's, only resources carrying the tag filter are touched, a target that
resolves to nothing is an error, a protected environment needs confirmation, alarms in ALARM refuse a fault."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from psycopg.conninfo import make_conninfo

from gameday.config import Environment
from gameday.errors import Aborted, ConfigError
from gameday.operations import DATA_FAULTS
from gameday.service.heartbeat import marker_present, write_marker
from gameday.service.resolved import Service
from gameday.targets.aws import asg, aurora, cache, dns, ec2, failback, lag, observe, rds, services, wait
from gameday.targets.aws.guard import guarded as _guarded
from gameday.targets.aws.k8s import Kube
from gameday.targets.aws.lockout import check_lockout, runner_addresses
from gameday.targets.aws.regional import RegionalActions
from gameday.targets.aws.restore import AwsRestores
from gameday.targets.aws.session import Actions, AwsSession, attempt_all
from gameday.targets.base import EnvironmentStatus, FaultResult

__all__ = ["AwsTarget"]


class AwsTarget(RegionalActions, AwsRestores):
    def __init__(self, env: Environment, *, confirm: str | None = None, plan_only: bool = False,
                 kube_clients: dict[str, Any] | None = None, db_password: str | None = None) -> None:
        if env.aws is None:
            raise ConfigError("the environment has no 'aws' section", field="aws")
        if env.protected and confirm != env.name:
            raise ConfigError(f"environment '{env.name}' is protected: pass --confirm {env.name}", field="--confirm")
        self.env, self.name, self.settings = env, env.name, env.aws
        self.confirmed = confirm == env.name  # --confirm NAME: a data fault's statement may run (restore.py)
        self.session = AwsSession(env.aws)
        self.actions = Actions(plan_only=plan_only)
        self.run_id = uuid.uuid4().hex[:10]
        self._kube_clients = kube_clients
        self._kubes: dict[str, Kube] = {}
        # every way to build the target (drill, chaos, recover, plan) reads the password the same way
        self.db_password = db_password if db_password is not None else os.environ.get(env.aws.rds.password_env)
        self._status: tuple[float, int, EnvironmentStatus] | None = None  # (when, changes made then, status)
        self.check_account()

    # ---- guardrails -----------------------------------------------------------------------------
    @_guarded
    def check_account(self) -> str:
        account = str(self.session.client("sts").get_caller_identity()["Account"])
        if account != self.settings.account_id:
            raise ConfigError(f"the credentials belong to account {account}, the environment to "
                              f"{self.settings.account_id}: refusing to run", field="aws.account_id")
        return account

    @_guarded
    def check_stop_conditions(self) -> None:
        """Raise Aborted when a stop-condition alarm is in ALARM (checked before every fault and step)."""
        firing = services.alarms_in_alarm(self.session)
        if firing:
            raise Aborted(f"stop-condition alarms in ALARM: {', '.join(firing)}")

    @_guarded
    def preflight(self, name: str, args: dict[str, Any]) -> None:
        """Before a run changes anything: a fault that would cut this machine off, or touch nothing, is refused
        (ConfigError, exit 2). A region isolation checks every tagged subnet of the region; a zone blackhole its zone's."""
        if name == "fail_cache_primary":  # the group resolves (by the tags) before anything changes
            cache.preflight(self.session)
        elif name in DATA_FAULTS:  # its statement: described, bounded, confirmed (restore.py)
            self.data_statement(name)
        elif name == "fail_region":
            self._isolation_subnets(str(args["region"]))
        elif name in ("fail_zone", "freeze_zone") and self.settings.blackhole_network:
            check_lockout(ec2.zone_subnets(self.session, str(args["zone"])),
                          runner_addresses(self.settings.runner_addresses), f"to blackhole {args['zone']}")

    def _isolation_subnets(self, region: str) -> list[dict[str, Any]]:
        if region not in self.regions():
            raise ConfigError(f"unknown region {region!r}; expected one of: {', '.join(self.regions())}", field="region")
        subnets = ec2.region_subnets(self.session, region)
        if not subnets:
            tf = self.settings.tag_filter
            raise ConfigError(f"no subnet in {region} carries {tf.key}={tf.value}: the region isolation would touch "
                              "nothing", field="aws.tag_filter")
        check_lockout(subnets, runner_addresses(self.settings.runner_addresses), f"to isolate {region}")
        return subnets

    def kube(self, region: str) -> Kube | None:
        eks = self.settings.eks.get(region)
        if eks is None:
            return None
        if region not in self._kubes:
            if self._kube_clients is not None:
                api = self._kube_clients[region]
            else:
                from kubernetes import config
                from kubernetes.config.config_exception import ConfigException

                try:  # KUBECONFIG read now: the client library reads it once, when first imported
                    api = config.new_client_from_config(os.environ.get("KUBECONFIG"), context=eks.kube_context)
                except ConfigException as exc:  # no kubeconfig, or no such context: the user's to fix
                    raise ConfigError(f"cannot use the EKS cluster of {region}: {exc}",
                                      field=f"aws.eks.{region}.kube_context") from None
            self._kubes[region] = Kube(api, eks.zone_label, eks.capacity_label,
                                       evict_retry_s=min(self.settings.waiter_delay_s, 5.0),
                                       evict_budget_s=self.settings.wait_timeout_s)
        return self._kubes[region]

    # ---- faults -----------------------------------------------------------------------------------
    @_guarded
    def fail_zone(self, zone: str) -> FaultResult:
        if zone not in self.settings.zones:
            raise ConfigError(f"unknown zone {zone!r}; expected one of: {', '.join(self.settings.zones)}", field="zone")
        self.check_stop_conditions()
        ec2.zone_instances(self.session, zone)  # resolve before any change: nothing to touch is an error
        self.preflight("fail_zone", {"zone": zone})
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
        if rds.writer_zone(s) == zone:  # the zone's other faults are not held up by the DB's failover
            out["db_failover"] = rds.fail_over(s, a, wait_for_it=False)
        out["elasticache_failovers"] = services.elasticache_failover_in_zone(s, a, zone)
        out["msk_rebooted_brokers"] = services.msk_reboot_brokers_in_zone(s, a, zone)
        return FaultResult(t, out)

    @_guarded
    def freeze_zone(self, zone: str) -> FaultResult:
        if not self.settings.blackhole_network:
            raise ConfigError("a zone partition on AWS is the NACL blackhole: set aws.blackhole_network", field="aws")
        self.preflight("freeze_zone", {"zone": zone})
        t = time.time()
        return FaultResult(t, {"zone": zone, "blackholed_subnets": ec2.blackhole_zone(self.session, self.actions, zone)})

    @_guarded
    def restore_zone(self, zone: str) -> dict[str, Any]:
        s, a = self.session, self.actions
        out: dict[str, Any] = {"zone": zone, "stopped_fis_experiments": services.stop_fis(s, a),
                               "unblackholed": ec2.unblackhole_zone(s, a, zone),
                               "started": ec2.start_zone_instances(s, a, zone), "asgs": asg.include_zone(s, a)}
        k = self.kube(self.settings.primary_region)
        if k is not None:
            out["uncordoned"] = k.uncordon(a, k.nodes(zone=zone))
        return out

    @_guarded
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

    @_guarded
    def fail_over_db(self) -> FaultResult:
        """Multi-AZ failover; returns once it happened (t_applied is the call's instant)."""
        self.check_stop_conditions()
        t = time.time()
        return FaultResult(t, rds.fail_over(self.session, self.actions))

    @_guarded
    def fail_cache_primary(self) -> FaultResult:
        """ElastiCache Multi-AZ failover of the tagged replication group (TestFailover or FIS), waited for."""
        cache.preflight(self.session)
        self.check_stop_conditions()
        return FaultResult(time.time(), cache.fail_primary(self.session, self.actions, self.run_id))

    @_guarded
    def cache_url(self) -> str | None:
        return cache.primary_url(self.session)

    @_guarded
    def fail_region(self, region: str) -> FaultResult:
        """Cut every tagged subnet of ``region`` off with a deny-all NACL (ingress and egress), the associations
        kept; or the environment's FIS scenario. Refused before any change when this machine is in one of them."""
        subnets = self._isolation_subnets(region)
        self.check_stop_conditions()
        t = time.time()
        out: dict[str, Any] = {"region": region}
        if self.settings.fis_region_template_id:
            out["fis_experiment"] = services.start_fis(self.session, self.actions, self.settings.fis_region_template_id,
                                                       self.run_id)
        else:  # the DR replica keeps receiving WAL (RDS replicates outside the VPC): the report says so
            out["replica_lag_at_t0"] = lag.replica_lag(self.session)
            out["isolated_subnets"] = ec2.isolate_region(self.session, self.actions, region, subnets)
            out["original_associations_in"] = f"ssm:{ec2.record_name(self.session, region)}"  # the journal points to it
            out["managed_replication"] = "not stopped by the NACL isolation"
        return FaultResult(t, out)

    def delay_link(self, ms: float) -> FaultResult:
        raise ConfigError("cross-region link delay is a lab-only condition", field="conditions.link_delay_ms")

    def inject_latency(self, ms: float = 0.0, stall_s: float = 0.0) -> FaultResult:
        raise ConfigError("ingest latency injection is a lab-only fault", field="fault")

    @_guarded
    def restore(self) -> dict[str, Any]:
        """Undo the faults: gameday's FIS experiments stopped, either region's isolation (what follows may need the
        network: a private EKS endpoint), then every zone's; each part attempted whatever another raised."""
        s, a = self.session, self.actions
        parts: dict[str, Callable[[], Any]] = {"stopped FIS experiments": partial(services.stop_fis, s, a)}
        parts.update({f"unisolated {r}": partial(ec2.unisolate_region, s, a, r) for r in self.regions()})
        parts.update({z: partial(self.restore_zone, z) for z in self.settings.zones})
        return attempt_all(parts)

    # ---- runbook actions (each returns once its effect holds, within the step's timeout_s) ----------
    @_guarded
    def promote_dr_db(self) -> dict[str, Any]:
        """RDS: the DR replica promoted, waited until writable. Aurora: the unplanned global failover, waited."""
        s, cfg = self.session, self.settings
        if cfg.rds.global_cluster_id:
            return aurora.failover(s, self.actions)
        if not cfg.rds.dr_replica_id:
            raise ConfigError("no DR replica configured", field="aws.rds.dr_replica_id")
        rds.promote(s, self.actions, cfg.dr_region, cfg.rds.dr_replica_id, lambda: self._write_check(cfg.dr_region))
        return {"instance": cfg.rds.dr_replica_id, "region": cfg.dr_region}

    @_guarded
    def promote_cache(self) -> dict[str, Any]:  # FailoverGlobalReplicationGroup to the DR region, waited for
        return cache.global_failover(self.session, self.actions, self.settings.dr_region)

    @_guarded
    def return_primary_cache(self) -> dict[str, Any]:  # the failback: to the primary region again
        return cache.global_failover(self.session, self.actions, self.settings.primary_region)

    @_guarded
    def switch_dns(self, region: str) -> dict[str, Any]:
        if region not in self.regions():
            raise ConfigError(f"unknown region {region!r}", field="region")
        return dns.switch(self.session, self.actions, to_dr=region == self.settings.dr_region)

    @_guarded
    def scale_dr(self, count: int) -> dict[str, Any]:
        """The DR node group to ``count`` in-service instances and (EKS) the ingest deployment to its scaled
        size (1 when scaling down to one node), each waited for."""
        s, a, dr = self.session, self.actions, self.settings.dr_region
        out: dict[str, Any] = {"region": dr, "count": count}
        k = self.kube(dr)  # before any change: a cluster that cannot be reached is a usage error
        if self.settings.dr_node_group_asg:
            out["asg"] = asg.scale_asg(s, a, self.settings.dr_node_group_asg, dr, count)
        if k is not None:
            eks = self.settings.eks[dr]
            replicas = self.settings.dr_scaled_replicas if count > 1 else 1
            k.scale(a, eks.ingest_namespace, eks.ingest_deployment, replicas)
            wait.until(s, a, f"{replicas} ready replica(s) of {eks.ingest_namespace}/{eks.ingest_deployment} ({dr})",
                       lambda: k.ready_replicas(eks.ingest_namespace, eks.ingest_deployment) >= replicas,
                       lambda: f"{k.ready_replicas(eks.ingest_namespace, eks.ingest_deployment)} ready")
            out["replicas"] = replicas
        return out

    def _rds_ids(self) -> tuple[str, str]:
        r = self.settings.rds
        if not (r.instance_id and r.dr_replica_id):
            raise ConfigError("failback needs aws.rds.instance_id and dr_replica_id (RDS) or global_cluster_id "
                              "(Aurora global)", field="aws.rds")
        return r.instance_id, r.dr_replica_id

    def _rebuild_in(self, region: str) -> dict[str, Any]:
        """``region``'s database a replica of the other region's writer again (RDS: created across regions and
        waited for; Aurora global: waited for until it is a secondary of the global database again)."""
        s, cfg = self.session, self.settings
        if cfg.rds.global_cluster_id:
            return aurora.wait_secondary(s, self.actions, region)
        ids = dict(zip((cfg.primary_region, cfg.dr_region), self._rds_ids(), strict=True))
        source = cfg.dr_region if region == cfg.primary_region else cfg.primary_region
        return failback.rebuild_replica(s, self.actions, region=region, ident=ids[region], source_region=source,
                                        source_id=ids[source], run_id=self.run_id)

    @_guarded
    def rebuild_primary_region(self) -> dict[str, Any]:
        """The primary region's database a replica of the DR writer again."""
        return self._rebuild_in(self.settings.primary_region)

    @_guarded
    def return_primary_db(self) -> dict[str, Any]:
        """Planned, no data loss. RDS: the primary-region replica caught up, promoted, waited. Aurora: switchover."""
        s, cfg = self.session, self.settings
        if cfg.rds.global_cluster_id:
            return aurora.switchover(s, self.actions, cfg.primary_region)
        primary_id, _ = self._rds_ids()
        seq = int(time.time() * 1000)
        source, replica = self.store_dsn(cfg.dr_region), self.store_dsn(cfg.primary_region)
        if source == replica:  # one DSN for both regions: a marker would be read back where it was written
            source, replica = self.writer_dsn(cfg.dr_region), self.writer_dsn(cfg.primary_region)
        failback.caught_up(s, self.actions, f"{primary_id} ({cfg.primary_region})",
                           lambda: write_marker(source, self._hb_table(), self._hb_run(), seq, time.time()),
                           lambda: marker_present(replica, self._hb_table(), self._hb_run(), seq))
        rds.promote(s, self.actions, cfg.primary_region, primary_id, lambda: self._write_check(cfg.primary_region))
        return {"instance": primary_id, "region": cfg.primary_region, "caught_up": True}

    @_guarded
    def rebuild_dr_db(self) -> dict[str, Any]:
        """The DR region's database a replica of the primary again."""
        return self._rebuild_in(self.settings.dr_region)

    @_guarded
    def drain_zone(self, zone: str) -> dict[str, Any]:
        """Cordon and drain the zone's Kubernetes nodes (the balancer stops sending them traffic)."""
        k = self.kube(self.settings.primary_region)
        if k is None:
            raise ConfigError("draining a zone needs the primary region's EKS cluster in aws.eks", field="aws.eks")
        return {"zone": zone, **k.cordon_and_drain(self.actions, k.nodes(zone=zone))}

    # ---- the database side ------------------------------------------------------------------------
    def _hb_table(self) -> str:
        return self.env.service.heartbeat_table if self.env.service is not None else "gameday.heartbeat"

    def _hb_run(self) -> str:
        return f"gameday-check-{self.run_id}"

    def _write_check(self, region: str) -> str | None:
        """None when a heartbeat commits through ``region``'s writer, else why not."""
        return write_marker(self.store_dsn(region), self._hb_table(), self._hb_run(), int(time.time() * 1000),
                            time.time())

    def store_dsn(self, region: str) -> str:
        """The database of ``region`` as the runner reaches it: ``service.store.dsn`` (per region, or one that
        follows the writer), else the region's writer endpoint."""
        spec = self.env.service
        if spec is not None and spec.store is not None and spec.store.dsn is not None:
            dsn = self.service().store_dsn_for(region)
            if dsn:
                return dsn
        return self.writer_dsn(region)

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

    @_guarded
    def writer_dsn(self, region: str | None = None) -> str:
        """The writer endpoint of ``region`` (default: the primary's), as a libpq conninfo built by psycopg
        (a password with spaces or quotes is quoted right)."""
        host, port = rds.writer_endpoint(self.session, region)
        r = self.settings.rds
        return make_conninfo(host=host, port=port, user=r.user, dbname=r.database, connect_timeout=3,
                             password=self.db_password or None)

    @_guarded
    def primary_dsn(self) -> str:
        """The writer that holds the writes now (the DR region's once it was promoted)."""
        st = observe.databases(self.session, set())
        writer = next((d.region for d in st if d.role == "primary"), self.settings.primary_region)
        return self.writer_dsn(writer)

    @_guarded
    def status(self) -> EnvironmentStatus:
        """Nodes per region and zone (EKS or EC2), the database roles and the writer, the DNS answer.

        One status costs about ten API calls and a runbook wait asks for it every 50 ms: an answer is
        reused for up to ``min(waiter_delay_s, 2)`` seconds after it arrived unless the driver changed something
        since (AWS throttles a faster poll, and nothing it reports changes faster; a slow read, a busy runner,
        does not use the window up)."""
        now, changes = time.monotonic(), len(self.actions.calls)
        if self._status is not None and self._status[1] == changes and now - self._status[0] < min(
                self.settings.waiter_delay_s, 2.0):
            return self._status[2]
        st = observe.status(self.session, self.kube)
        self._status = (time.monotonic(), changes, st)
        return st
