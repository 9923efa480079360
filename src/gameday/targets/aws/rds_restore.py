"""RDS restores for the restore drills (docs/restore.md): a point-in-time restore (an instance, or an Aurora
cluster and a writer for it) or a snapshot restore, each into a NEW instance, waited for with botocore's waiter
(and RDS's other terminal states as failures); the restorable window; the deletion of a restored instance.

Every instance gameday restores carries the tag filter's tag, ``gameday:restore-of`` (the environment's
database it was restored from) and ``gameday:restore-point``: the IAM policy lets gameday delete only instances
tagged ``gameday:restore-of``, and ``discard`` refuses any other, so the inverse can never delete the database
it was meant to protect.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from gameday.errors import ConfigError, DriverError
from gameday.restore.models import BackupStatus, Snapshot
from gameday.targets.aws import rds, wait
from gameday.targets.aws.failback import _shape_of
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["RESTORE_OF", "RESTORE_POINT", "source", "backup_status", "restore_pitr", "restore_snapshot",
           "restored_endpoint", "discard", "find"]

RESTORE_OF = "gameday:restore-of"
RESTORE_POINT = "gameday:restore-point"
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}  # the policy's to fix: said at once


def _epoch(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def source(s: AwsSession) -> tuple[str, str]:
    """("cluster", id) for Aurora, else ("instance", id): the environment's database a restore starts from."""
    r = s.settings.rds
    return ("cluster", str(r.cluster_id)) if r.cluster_id else ("instance", str(r.instance_id))


def _own_ids(s: AwsSession) -> set[str]:
    r = s.settings.rds
    return {i for i in (r.instance_id, r.cluster_id, r.dr_replica_id, r.dr_cluster_id) if i}


def _tags(inst: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in inst.get("TagList", [])}


def _cluster(s: AwsSession, ident: str) -> dict[str, Any] | None:
    found = s.client("rds").describe_db_clusters(Filters=[{"Name": "db-cluster-id", "Values": [ident]}])["DBClusters"]
    return found[0] if found else None


def find(s: AwsSession, ident: str) -> tuple[str, dict[str, Any]] | None:
    """The restored instance (or Aurora cluster) called ``ident``; None when there is none (any more)."""
    kind, _ = source(s)
    found = _cluster(s, ident) if kind == "cluster" else rds.instance(s, s.settings.primary_region, ident)
    return (kind, found) if found else None


# ---- the restorable window and the snapshots ---------------------------------------------------------------
def _instance_window(s: AwsSession, ident: str, region: str) -> tuple[float | None, float | None]:
    """(earliest, latest) restorable time: DescribeDBInstanceAutomatedBackups' RestoreWindow; where it gives
    none (moto, a replicated backup still copying), the instance's LatestRestorableTime and its oldest automated
    snapshot."""
    client = s.client("rds", region)
    backups = client.describe_db_instance_automated_backups(DBInstanceIdentifier=ident).get("DBInstanceAutomatedBackups", [])
    window: dict[str, Any] = next((b["RestoreWindow"] for b in backups if b.get("RestoreWindow")), {})
    earliest, latest = _epoch(window.get("EarliestTime")), _epoch(window.get("LatestTime"))
    if latest is None and region == s.settings.primary_region:
        inst = rds.instance(s, region, ident)
        latest = _epoch((inst or {}).get("LatestRestorableTime"))
    if earliest is None and backups and region == s.settings.primary_region:
        earliest = min((sn.t_taken for sn in _snapshots(s) if sn.kind == "automated"), default=None)
    return earliest, latest


def _snapshots(s: AwsSession) -> list[Snapshot]:
    kind, ident = source(s)
    client, region = s.client("rds"), s.settings.primary_region
    if kind == "cluster":
        found = client.describe_db_cluster_snapshots(DBClusterIdentifier=ident).get("DBClusterSnapshots", [])
        name_key = "DBClusterSnapshotIdentifier"
    else:
        found = client.describe_db_snapshots(DBInstanceIdentifier=ident).get("DBSnapshots", [])
        name_key = "DBSnapshotIdentifier"
    return [Snapshot(name=sn[name_key], t_taken=t, region=region, kind=str(sn.get("SnapshotType", "manual")))
            for sn in found if sn.get("Status") == "available" and (t := _epoch(sn.get("SnapshotCreateTime")))]


def _restored_names(s: AwsSession) -> list[str]:
    kind, ident = source(s)
    client = s.client("rds")
    if kind == "cluster":
        found = client.describe_db_clusters().get("DBClusters", [])
        return sorted(c["DBClusterIdentifier"] for c in found if _tags(c).get(RESTORE_OF) == ident)
    found = client.describe_db_instances().get("DBInstances", [])
    return sorted(i["DBInstanceIdentifier"] for i in found if _tags(i).get(RESTORE_OF) == ident)


def backup_status(s: AwsSession) -> BackupStatus:
    kind, ident = source(s)
    measured = time.time()
    if kind == "cluster":
        c = _cluster(s, ident) or {}
        earliest, latest = _epoch(c.get("EarliestRestorableTime")), _epoch(c.get("LatestRestorableTime"))
        dr_latest = None
    else:
        earliest, latest = _instance_window(s, ident, s.settings.primary_region)
        # the cross-region automated backup replication, when the team set it up: the DR region's window (a DR
        # region that does not answer leaves it unknown: a restore in the primary region does not need it)
        try:
            dr_latest = _instance_window(s, ident, s.settings.dr_region)[1]
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _DENIED:
                raise
            dr_latest = None
    return BackupStatus(measured_at=measured, latest_restorable=latest, earliest_restorable=earliest,
                        dr_latest_restorable=dr_latest, snapshots=_snapshots(s), restored=_restored_names(s))


# ---- restores -----------------------------------------------------------------------------------------------
def _check_new(s: AwsSession, ident: str) -> None:
    if ident in _own_ids(s):
        raise ConfigError(f"{ident!r} is one of the environment's own databases: a restore goes into a NEW instance",
                          field="args.instance")
    if find(s, ident) is not None or rds.instance(s, s.settings.primary_region, ident) is not None:
        raise DriverError(f"an instance called {ident!r} exists already: discard it first "
                          f"(gameday recover, or a discard_restore step)", code="DBInstanceAlreadyExists")


def _shape(s: AwsSession, operation: str, src: dict[str, Any]) -> dict[str, Any]:
    """The source's class, groups and network (a restore without a subnet group lands in the default VPC), only
    the parameters ``operation`` takes; single-AZ: an instance to verify, not to serve."""
    takes = set(s.client("rds").meta.service_model.operation_model(operation).input_shape.members)
    shape = {k: v for k, v in _shape_of(src).items() if k in takes}
    shape.update(MultiAZ=False, DeletionProtection=False)
    return shape


def _tag_list(s: AwsSession, source_id: str, point: float | None) -> list[dict[str, str]]:
    tf = s.settings.tag_filter
    tags = [{"Key": tf.key, "Value": tf.value}, {"Key": RESTORE_OF, "Value": source_id}]
    if point is not None:
        tags.append({"Key": RESTORE_POINT, "Value": f"{point:.3f}"})
    return tags


def _when(point: float) -> datetime:
    return datetime.fromtimestamp(point, UTC)


def _check_window(status: BackupStatus, point: float) -> None:
    if status.latest_restorable is not None and point > status.latest_restorable:
        raise DriverError(f"restore point {_when(point):%H:%M:%S} is after the latest restorable time "
                          f"{_when(status.latest_restorable):%H:%M:%S} (RDS archives the log every 5 minutes)")
    if status.earliest_restorable is not None and point < status.earliest_restorable:
        raise DriverError(f"restore point {_when(point):%H:%M:%S} is before the earliest restorable time "
                          f"{_when(status.earliest_restorable):%H:%M:%S} (outside the backup retention)")


def restore_pitr(s: AwsSession, acts: Actions, ident: str, to: float | str) -> dict[str, Any]:
    """RestoreDBInstanceToPointInTime (Aurora: RestoreDBClusterToPointInTime, then a writer instance in it) to
    ``to`` (epoch seconds, or ``latest``), waited for. In a plan, ``before_fault`` stands for T0."""
    kind, src_id = source(s)
    if to == "before_fault" and not acts.plan_only:
        raise DriverError("restore to 'before_fault': the runbook step resolves it to T0 before the driver is called")
    _check_new(s, ident)
    status = backup_status(s)
    point = status.latest_restorable if to in ("latest", "before_fault") else float(to)
    if isinstance(to, float | int):
        _check_window(status, float(to))
    when: dict[str, Any] = ({"UseLatestRestorableTime": True} if to == "latest" else
                            {"RestoreTime": "T0 (just before the fault)"} if to == "before_fault" else
                            {"RestoreTime": _when(float(to))})
    base = status.newest_snapshot(before=point)
    started = time.time()
    if kind == "cluster":
        _restore_cluster(s, acts, ident, src_id, when, point)
    else:
        client = s.client("rds")
        src = rds.instance(s, s.settings.primary_region, src_id) or {}
        params = {"SourceDBInstanceIdentifier": src_id, "TargetDBInstanceIdentifier": ident, **when,
                  **_shape(s, "RestoreDBInstanceToPointInTime", src), "Tags": _tag_list(s, src_id, point)}
        acts.do("rds:RestoreDBInstanceToPointInTime", ident,
                lambda: client.restore_db_instance_to_point_in_time(**params), **_shown(params))
        _wait_instance(s, acts, ident)
    return {"instance": ident, "kind": "pitr", "restore_point": point, "latest_restorable": status.latest_restorable,
            "source": base.name if base else f"{src_id}'s continuous backup",
            "source_taken_at": base.t_taken if base else None, "t_started": started}


def _restore_cluster(s: AwsSession, acts: Actions, ident: str, src_id: str, when: dict[str, Any],
                     point: float | None) -> None:
    client = s.client("rds")
    src = _cluster(s, src_id) or {}
    aurora_when = {"RestoreToTime" if k == "RestoreTime" else k: v for k, v in when.items()}
    params = {"DBClusterIdentifier": ident, "SourceDBClusterIdentifier": src_id, **aurora_when,
              "DeletionProtection": False, "Tags": _tag_list(s, src_id, point)}
    if src.get("DBSubnetGroup"):
        params["DBSubnetGroupName"] = src["DBSubnetGroup"]
    sgs = [g["VpcSecurityGroupId"] for g in src.get("VpcSecurityGroups", []) if g.get("VpcSecurityGroupId")]
    if sgs:
        params["VpcSecurityGroupIds"] = sgs
    acts.do("rds:RestoreDBClusterToPointInTime", ident, lambda: client.restore_db_cluster_to_point_in_time(**params),
            **_shown(params))
    wait.waiter(s, acts, "rds", None, "db_cluster_available", f"the restored Aurora cluster {ident} available",
                DBClusterIdentifier=ident)
    # a restored Aurora cluster has no instance: its endpoint answers once a writer is created in it
    writer = next((m["DBInstanceIdentifier"] for m in src.get("DBClusterMembers", []) if m.get("IsClusterWriter")), None)
    klass = (rds.instance(s, s.settings.primary_region, writer) or {}).get("DBInstanceClass") if writer else None
    member = f"{ident[:61]}-w"
    inst = {"DBInstanceIdentifier": member, "DBClusterIdentifier": ident, "Engine": src.get("Engine", "aurora-postgresql"),
            "DBInstanceClass": klass or "db.r6g.large", "Tags": _tag_list(s, src_id, point)}
    acts.do("rds:CreateDBInstance", member, lambda: client.create_db_instance(**inst), **_shown(inst))
    _wait_instance(s, acts, member)


def restore_snapshot(s: AwsSession, acts: Actions, ident: str, snapshot: str) -> dict[str, Any]:
    """RestoreDBInstanceFromDBSnapshot of ``snapshot`` (``latest``: the newest available snapshot of the
    environment's instance), waited for."""
    kind, src_id = source(s)
    if kind == "cluster":
        raise ConfigError("restore_snapshot on Aurora (RestoreDBClusterFromSnapshot) is not driven yet: use "
                          "restore_point_in_time", field="args.snapshot")
    _check_new(s, ident)
    status = backup_status(s)
    snap = status.newest_snapshot() if snapshot == "latest" else next(
        (sn for sn in status.snapshots if sn.name == snapshot), None)
    if snap is None:
        have = ", ".join(sn.name for sn in status.snapshots) or "none"
        raise DriverError(f"no snapshot {'of ' + src_id if snapshot == 'latest' else repr(snapshot)} is available "
                          f"(snapshots of {src_id}: {have})", code="DBSnapshotNotFound")
    client = s.client("rds")
    src = rds.instance(s, s.settings.primary_region, src_id) or {}
    params = {"DBInstanceIdentifier": ident, "DBSnapshotIdentifier": snap.name,
              **_shape(s, "RestoreDBInstanceFromDBSnapshot", src), "Tags": _tag_list(s, src_id, snap.t_taken)}
    started = time.time()
    acts.do("rds:RestoreDBInstanceFromDBSnapshot", ident,
            lambda: client.restore_db_instance_from_db_snapshot(**params), **_shown(params))
    _wait_instance(s, acts, ident)
    return {"instance": ident, "kind": "snapshot", "restore_point": snap.t_taken, "source": snap.name,
            "source_taken_at": snap.t_taken, "latest_restorable": status.latest_restorable, "t_started": started}


def _shown(params: dict[str, Any]) -> dict[str, Any]:
    """What a plan line and the journal show of a call's parameters (times as ISO text, no tag list)."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in params.items() if k != "Tags"}


def _wait_instance(s: AwsSession, acts: Actions, ident: str) -> None:
    """botocore's db_instance_available, stopped at once by any of RDS's terminal states (restore-error ...)."""
    wait.waiter(s, acts, "rds", None, "db_instance_available", f"the restored instance {ident} available",
                failures=rds.TERMINAL_STATES, DBInstanceIdentifier=ident)


def restored_endpoint(s: AwsSession, ident: str) -> tuple[str, int]:
    """(host, port) of a restored instance or cluster; DriverError when gameday restored none by that name."""
    found = find(s, ident)
    if found is None:
        raise DriverError(f"no restored instance called {ident!r}", code="DBInstanceNotFound")
    kind, res = found
    if kind == "cluster":
        return str(res["Endpoint"]), int(res["Port"])
    ep = res.get("Endpoint") or {}
    if not ep.get("Address"):
        raise DriverError(f"the restored instance {ident} has no endpoint yet ({res.get('DBInstanceStatus')})")
    return str(ep["Address"]), int(ep["Port"])


def discard(s: AwsSession, acts: Actions, ident: str) -> dict[str, Any]:
    """DeleteDBInstance (SkipFinalSnapshot; Aurora: its instances, then DeleteDBCluster), waited until gone.
    Idempotent: nothing by that name is ``deleted: false``. Refused for anything gameday did not restore."""
    if ident in _own_ids(s):
        raise ConfigError(f"{ident!r} is one of the environment's own databases: discard_restore deletes only "
                          "restored instances", field="args.instance")
    found = find(s, ident)
    if found is None and acts.plan_only:  # a plan: the instance the restore before it would have made
        acts.do("rds:DeleteDBInstance", ident, lambda: None, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
        return {"instance": ident, "deleted": True}
    if found is None:
        return {"instance": ident, "deleted": False}
    kind, res = found
    if RESTORE_OF not in _tags(res):
        raise ConfigError(f"{ident!r} was not restored by gameday (no {RESTORE_OF} tag): not deleted",
                          field="args.instance")
    client = s.client("rds")
    members = [m["DBInstanceIdentifier"] for m in res.get("DBClusterMembers", [])] if kind == "cluster" else [ident]
    for member in members:
        state = (rds.instance(s, s.settings.primary_region, member) or {}).get("DBInstanceStatus")
        if state not in (None, "deleting"):
            acts.do("rds:DeleteDBInstance", member, lambda m=member: client.delete_db_instance(
                DBInstanceIdentifier=m, SkipFinalSnapshot=True, DeleteAutomatedBackups=True),
                SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
        wait.waiter(s, acts, "rds", None, "db_instance_deleted", f"the restored instance {member} deleted",
                    DBInstanceIdentifier=member)
    if kind == "cluster":
        acts.do("rds:DeleteDBCluster", ident, lambda: client.delete_db_cluster(
            DBClusterIdentifier=ident, SkipFinalSnapshot=True), SkipFinalSnapshot=True)
        wait.waiter(s, acts, "rds", None, "db_cluster_deleted", f"the restored cluster {ident} deleted",
                    DBClusterIdentifier=ident)
    return {"instance": ident, "deleted": True, **({"cluster_instances": members} if kind == "cluster" else {})}
