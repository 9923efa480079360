"""The planned return to the primary region on RDS (runbooks/region-failback.yaml), each step waiting for
its effect:

- ``rebuild_primary``: a cross-region read replica of the current (DR) writer, created in the primary
  region under the primary's configured name; the old primary (standalone since the failover) is renamed
  ``<name>-pre-failback-<run>`` and kept: gameday never deletes a database, a person does once satisfied;
- ``return_primary``: the replica has caught up (a heartbeat written on the DR writer is read back on
  it: replication measured by the data, never by the ReplicaLag metric), then it is promoted;
- ``rebuild_dr``: the DR region's replica of the primary re-created the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gameday.errors import ConfigError
from gameday.targets.aws import rds, wait
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["rebuild_replica", "caught_up"]


def _rename(s: AwsSession, acts: Actions, region: str, ident: str, run_id: str) -> str:
    new = f"{ident}-pre-failback-{run_id}"
    client = s.client("rds", region)
    acts.do("rds:ModifyDBInstance", ident, lambda: client.modify_db_instance(
        DBInstanceIdentifier=ident, NewDBInstanceIdentifier=new, ApplyImmediately=True), NewDBInstanceIdentifier=new)
    wait.until(s, acts, f"{ident} ({region}) renamed to {new}",
               lambda: rds.instance(s, region, ident) is None and rds.instance(s, region, new) is not None)
    return new


def _shape_of(inst: dict[str, Any]) -> dict[str, Any]:
    """What the new replica keeps of the instance it replaces (the region's original database, renamed and kept,
    unchanged by the drill): its class, parameter group, option group, network (a cross-region replica without
    a subnet group lands in the default VPC), storage, Multi-AZ, and its KMS key (an encrypted replica needs
    one of its own region). Defaults (``default.*`` groups) are left to RDS."""
    out: dict[str, Any] = {"DBInstanceClass": inst["DBInstanceClass"], "MultiAZ": bool(inst.get("MultiAZ"))}
    pgs = [g["DBParameterGroupName"] for g in inst.get("DBParameterGroups", []) if g.get("DBParameterGroupName")]
    if pgs and not pgs[0].startswith("default."):
        out["DBParameterGroupName"] = pgs[0]
    ogs = [g["OptionGroupName"] for g in inst.get("OptionGroupMemberships", []) if g.get("OptionGroupName")]
    if ogs and not ogs[0].startswith("default:"):
        out["OptionGroupName"] = ogs[0]
    group = (inst.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
    if group and group != "default":
        out["DBSubnetGroupName"] = group
    sgs = [g["VpcSecurityGroupId"] for g in inst.get("VpcSecurityGroups", []) if g.get("VpcSecurityGroupId")]
    if sgs:
        out["VpcSecurityGroupIds"] = sgs
    if inst.get("StorageEncrypted") and inst.get("KmsKeyId"):
        out["KmsKeyId"] = inst["KmsKeyId"]
    for key in ("StorageType", "Iops", "AllocatedStorage"):
        if inst.get(key):
            out[key] = inst[key]
    return out


def rebuild_replica(s: AwsSession, acts: Actions, *, region: str, ident: str, source_region: str, source_id: str,
                    run_id: str) -> dict[str, Any]:
    """Make ``ident`` in ``region`` a read replica of ``source_id`` in ``source_region`` and wait until it is
    available. Already one: only the wait. Another instance by that name: renamed out of the way first."""
    src = rds.instance(s, source_region, source_id)
    # a plan on a healthy environment: the source is still a replica (the failover the drill runs first is
    # only planned too), the calls are planned as they will be made
    if src is None or (rds.is_replica(src) and not acts.plan_only):
        raise ConfigError(f"{source_id} ({source_region}) is not a standalone writer: nothing to replicate from",
                          field="aws.rds")
    out: dict[str, Any] = {"replica": ident, "region": region, "source": src["DBInstanceArn"]}
    cur = rds.instance(s, region, ident)
    if cur is not None and rds.is_replica(cur) and cur["ReadReplicaSourceDBInstanceIdentifier"] in (
            src["DBInstanceArn"], source_id):
        out["already"] = True
    else:
        # no original left (a region really lost): the source's class, RDS's defaults for the rest
        shape = _shape_of(cur) if cur is not None else {"DBInstanceClass": src["DBInstanceClass"]}
        if cur is not None:
            out["kept_as"] = _rename(s, acts, region, ident, run_id)
        client = s.client("rds", region)
        acts.do("rds:CreateDBInstanceReadReplica", ident, lambda: client.create_db_instance_read_replica(
            DBInstanceIdentifier=ident, SourceDBInstanceIdentifier=src["DBInstanceArn"], SourceRegion=source_region,
            **shape),
            source=src["DBInstanceArn"], region=region, **shape)
    rds.wait_available(s, acts, region, ident, f"the replica {ident} ({region}) available")
    return out


def caught_up(s: AwsSession, acts: Actions, what: str, write: Callable[[], str | None],
              present: Callable[[], bool]) -> None:
    """A marker committed on the writer, then waited for on the replica: replica lag 0, in data."""
    if acts.plan_only:
        return
    wait.until(s, acts, f"a heartbeat written on {what}'s source to be committed", lambda: write() is None)
    wait.until(s, acts, f"that heartbeat to reach {what} (replica lag 0)", present)
