"""RDS / Aurora in one region pair: Multi-AZ failover, DR replica promotion, the writer endpoint, each
waiting for its effect; the database roles the typed status reports. (Aurora Global Database: aurora.py;
the RDS failback: failback.py.)

A promotion gameday made is also written on the instance as a tag (``gameday:promoted`` = its ARN and
the time): RDS drops ``ReadReplicaSourceDBInstanceIdentifier`` on promotion, moto does not, and when both
regions hold a standalone instance (after a failover, or after the return before the DR replica is
rebuilt) the latest promotion says which one is the writer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from gameday.errors import ConfigError
from gameday.targets.aws import wait
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["terminal", "wait_available",
           "describe_primary", "fail_over", "promote", "writer_endpoint", "writer_zone", "instance", "is_replica",
           "promoted_at", "MARK_PROMOTED"]

MARK_PROMOTED = "gameday:promoted"
# an instance in one of these will not become available (or fail over, or accept writes) by waiting: botocore's
# db_instance_available failure states and the states RDS leaves only after a person acts
TERMINAL_STATES = frozenset({"deleted", "deleting", "failed", "incompatible-restore", "incompatible-parameters",
                             "incompatible-network", "incompatible-option-group", "inaccessible-encryption-credentials",
                             "inaccessible-encryption-credentials-recoverable", "restore-error", "storage-full"})


def terminal(s: AwsSession, region: str | None, ident: str) -> str | None:
    """``ident (region) is <state>`` when the instance is in a terminal state, else None."""
    inst = instance(s, region or s.settings.primary_region, ident)
    status = inst.get("DBInstanceStatus") if inst else None
    return f"{ident} ({region or s.settings.primary_region}) is {status}" if status in TERMINAL_STATES else None


def describe_primary(s: AwsSession) -> dict[str, Any]:
    r = s.settings.rds
    rds = s.client("rds")
    if r.cluster_id:
        return rds.describe_db_clusters(DBClusterIdentifier=r.cluster_id)["DBClusters"][0]
    return rds.describe_db_instances(DBInstanceIdentifier=r.instance_id)["DBInstances"][0]


def instance(s: AwsSession, region: str, ident: str) -> dict[str, Any] | None:
    """The instance, or None when there is none by that name (yet, or any more)."""
    try:
        return s.client("rds", region).describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "DBInstanceNotFound":
            return None
        raise


def promoted_at(inst: dict[str, Any]) -> float | None:
    """When gameday promoted this very instance (the tag names its ARN: a copy of it on a replica is not it)."""
    for t in inst.get("TagList", []):
        if t["Key"] == MARK_PROMOTED:
            arn, _, ts = t["Value"].rpartition(" ")
            if arn == inst.get("DBInstanceArn"):
                return float(ts)
    return None


def is_replica(inst: dict[str, Any]) -> bool:
    return bool(inst.get("ReadReplicaSourceDBInstanceIdentifier")) and promoted_at(inst) is None


def _cluster_writer(s: AwsSession) -> str | None:
    c = describe_primary(s)
    return next((m["DBInstanceIdentifier"] for m in c["DBClusterMembers"] if m["IsClusterWriter"]), None)


def writer_zone(s: AwsSession) -> str | None:
    r = s.settings.rds
    if r.cluster_id:
        writer = _cluster_writer(s)
        if writer is None:
            return None
        return s.client("rds").describe_db_instances(DBInstanceIdentifier=writer)["DBInstances"][0].get("AvailabilityZone")
    return describe_primary(s).get("AvailabilityZone")


def fail_over(s: AwsSession, acts: Actions, *, wait_for_it: bool = True) -> dict[str, Any]:
    """Multi-AZ failover (RDS: reboot with failover; Aurora: failover_db_cluster to a reader), then wait for
    it: the writer's zone changed and the instance available (RDS), the writer changed (Aurora)."""
    from chaosaws.rds.actions import failover_db_cluster, reboot_db_instance

    r = s.settings.rds
    cfg = s.chaosaws_configuration(s.settings.primary_region)
    if r.cluster_id:
        c = describe_primary(s)
        readers = [m["DBInstanceIdentifier"] for m in c["DBClusterMembers"] if not m["IsClusterWriter"]]
        if not readers:
            raise ConfigError(f"Aurora cluster {r.cluster_id} has no reader to fail over to", field="aws.rds.cluster_id")
        # an explicit target: chaosaws's failover_db_cluster without one fails parameter validation
        acts.do("rds:FailoverDBCluster", r.cluster_id, lambda: failover_db_cluster(
            db_cluster_identifier=r.cluster_id, target_db_instance_identifier=readers[0], configuration=cfg),
            TargetDBInstanceIdentifier=readers[0])
        if wait_for_it:
            wait.until(s, acts, f"Aurora cluster {r.cluster_id}'s writer to become {readers[0]}",
                       lambda: _cluster_writer(s) == readers[0], lambda: f"writer {_cluster_writer(s)}")
        return {"cluster": r.cluster_id, "new_writer": readers[0]}
    assert r.instance_id is not None
    before = writer_zone(s)
    acts.do("rds:RebootDBInstance", r.instance_id, lambda: reboot_db_instance(
        db_instance_identifier=r.instance_id, force_failover=True, configuration=cfg), ForceFailover=True)
    if wait_for_it:
        def moved() -> bool:
            inst = describe_primary(s)
            return inst.get("AvailabilityZone") != before and inst["DBInstanceStatus"] == "available"

        wait.until(s, acts, f"RDS instance {r.instance_id} available in a zone other than {before}", moved,
                   lambda: f"{describe_primary(s)['DBInstanceStatus']} in {describe_primary(s).get('AvailabilityZone')}",
                   terminal=lambda: terminal(s, None, str(r.instance_id)))
    return {"instance": r.instance_id, "zone_before": before}


def promote(s: AwsSession, acts: Actions, region: str, ident: str, accepts_write: Callable[[], str | None]) -> None:
    """Promote the replica ``ident`` in ``region``, then wait: available (botocore's waiter), and a heartbeat
    write accepted through it (a replica still refuses writes; "available" alone can come too early)."""
    rds = s.client("rds", region)
    # boto3: chaosaws has no promote-read-replica action
    acts.do("rds:PromoteReadReplica", ident, lambda: rds.promote_read_replica(
        DBInstanceIdentifier=ident, BackupRetentionPeriod=7), region=region)
    if not acts.plan_only:
        arn = rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]["DBInstanceArn"]
        acts.do("rds:AddTagsToResource", ident, lambda: rds.add_tags_to_resource(
            ResourceName=arn, Tags=[{"Key": MARK_PROMOTED, "Value": f"{arn} {time.time():.3f}"}]))
    wait_available(s, acts, region, ident, f"RDS instance {ident} ({region}) available")
    last: list[str | None] = [None]

    def writable() -> bool:
        last[0] = accepts_write()
        return last[0] is None

    wait.until(s, acts, f"the promoted {ident} ({region}) to accept a heartbeat write", writable,
               lambda: last[0] or "", terminal=lambda: terminal(s, region, ident))


def wait_available(s: AwsSession, acts: Actions, region: str, ident: str, what: str) -> None:
    """Until the instance is available; at once a DriverError (TerminalState) naming the state when it is in one
    of TERMINAL_STATES (botocore's db_instance_available knows only five of them)."""
    def available() -> bool:
        inst = instance(s, region, ident)
        return inst is not None and inst.get("DBInstanceStatus") == "available"

    wait.until(s, acts, what, available, lambda: str((instance(s, region, ident) or {}).get("DBInstanceStatus")),
               terminal=lambda: terminal(s, region, ident))


def writer_endpoint(s: AwsSession, region: str | None = None) -> tuple[str, int]:
    r = s.settings.rds
    if region == s.settings.dr_region:
        if r.dr_cluster_id:
            c = s.client("rds", region).describe_db_clusters(DBClusterIdentifier=r.dr_cluster_id)["DBClusters"][0]
            return c["Endpoint"], int(c["Port"])
        if r.dr_replica_id:
            inst = s.client("rds", region).describe_db_instances(DBInstanceIdentifier=r.dr_replica_id)["DBInstances"][0]
            return inst["Endpoint"]["Address"], int(inst["Endpoint"]["Port"])
    p = describe_primary(s)
    if r.cluster_id:
        return p["Endpoint"], int(p["Port"])
    return p["Endpoint"]["Address"], int(p["Endpoint"]["Port"])
