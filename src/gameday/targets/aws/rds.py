"""RDS / Aurora: Multi-AZ failover, DR replica promotion, the writer endpoint."""

from __future__ import annotations

from typing import Any

from gameday.errors import ConfigError
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["describe_primary", "fail_over", "promote_dr_replica", "writer_endpoint", "writer_zone"]


def describe_primary(s: AwsSession) -> dict[str, Any]:
    r = s.settings.rds
    rds = s.client("rds")
    if r.cluster_id:
        return rds.describe_db_clusters(DBClusterIdentifier=r.cluster_id)["DBClusters"][0]
    return rds.describe_db_instances(DBInstanceIdentifier=r.instance_id)["DBInstances"][0]


def writer_zone(s: AwsSession) -> str | None:
    r = s.settings.rds
    rds = s.client("rds")
    if r.cluster_id:
        c = describe_primary(s)
        writer = next((m["DBInstanceIdentifier"] for m in c["DBClusterMembers"] if m["IsClusterWriter"]), None)
        if writer is None:
            return None
        return rds.describe_db_instances(DBInstanceIdentifier=writer)["DBInstances"][0].get("AvailabilityZone")
    return describe_primary(s).get("AvailabilityZone")


def fail_over(s: AwsSession, acts: Actions) -> dict[str, Any]:
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
        return {"cluster": r.cluster_id, "new_writer": readers[0]}
    acts.do("rds:RebootDBInstance", r.instance_id, lambda: reboot_db_instance(
        db_instance_identifier=r.instance_id, force_failover=True, configuration=cfg), ForceFailover=True)
    return {"instance": r.instance_id}


def promote_dr_replica(s: AwsSession, acts: Actions) -> dict[str, Any]:
    r = s.settings.rds
    if not r.dr_replica_id:
        raise ConfigError("no DR replica configured", field="aws.rds.dr_replica_id")
    rds = s.client("rds", s.settings.dr_region)
    # boto3: chaosaws has no promote-read-replica action
    acts.do("rds:PromoteReadReplica", r.dr_replica_id, lambda: rds.promote_read_replica(
        DBInstanceIdentifier=r.dr_replica_id, BackupRetentionPeriod=7), region=s.settings.dr_region)
    return {"instance": r.dr_replica_id, "region": s.settings.dr_region}


def writer_endpoint(s: AwsSession, region: str | None = None) -> tuple[str, int]:
    r = s.settings.rds
    if region == s.settings.dr_region and r.dr_replica_id:
        inst = s.client("rds", region).describe_db_instances(DBInstanceIdentifier=r.dr_replica_id)["DBInstances"][0]
        return inst["Endpoint"]["Address"], int(inst["Endpoint"]["Port"])
    p = describe_primary(s)
    if r.cluster_id:
        return p["Endpoint"], int(p["Port"])
    return p["Endpoint"]["Address"], int(p["Endpoint"]["Port"])
