"""RDS and Aurora: the tagged primary database in the primary region, its cross-region read replica or the
Aurora global database's secondary cluster in the DR region (read-only: Describe* calls only)."""

from __future__ import annotations

from typing import Any

from gameday.discover.facts import Fact, Scope, found, one_of, tagged, todo

__all__ = ["discover_database"]


def _pages(client: Any, op: str, key: str, **kw: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(op).paginate(**kw) for item in page.get(key, [])]


def _region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def _name_of(arn_or_id: str) -> str:
    return arn_or_id.split(":")[-1]


def _instances(scope: Scope, region: str) -> list[dict[str, Any]]:
    rds = scope.clients("rds", region)
    return [i for i in _pages(rds, "describe_db_instances", "DBInstances")
            if not i.get("DBClusterIdentifier") and tagged(i.get("TagList"), scope)]


def _clusters(scope: Scope, region: str) -> list[dict[str, Any]]:
    rds = scope.clients("rds", region)
    return [c for c in _pages(rds, "describe_db_clusters", "DBClusters") if tagged(c.get("TagList"), scope)]


def _replica_of(primary: dict[str, Any], scope: Scope) -> Fact:
    """The primary's read replica in the DR region: named by the primary (ReadReplicaDBInstanceIdentifiers holds
    cross-region replicas as ARNs) or naming the primary as its source."""
    src = f"rds:DescribeDBInstances {scope.dr}"
    arn, name = primary.get("DBInstanceArn", ""), primary["DBInstanceIdentifier"]
    in_dr = scope.clients("rds", scope.dr)
    candidates = {_name_of(r) for r in primary.get("ReadReplicaDBInstanceIdentifiers", [])
                  if r.startswith("arn:") and _region_of(r) == scope.dr}
    for inst in _pages(in_dr, "describe_db_instances", "DBInstances"):
        source = inst.get("ReadReplicaSourceDBInstanceIdentifier") or ""
        if source in (arn, name) or (source.startswith("arn:") and _name_of(source) == name
                                     and _region_of(source) == scope.primary):
            candidates.add(inst["DBInstanceIdentifier"])
    if not candidates:
        return todo(f"no read replica of {name} in {scope.dr}: the database promote_dr_db promotes there", source=src)
    return one_of(sorted(candidates), f"read replicas of {name} in {scope.dr}", src, none="")


def _global_of(cluster: dict[str, Any], scope: Scope) -> tuple[Fact, Fact]:
    """(global_cluster_id, dr_cluster_id) of a primary-region Aurora cluster, if it belongs to a global database."""
    src = f"rds:DescribeGlobalClusters {scope.primary}"
    arn = cluster.get("DBClusterArn", "")
    for g in _pages(scope.clients("rds", scope.primary), "describe_global_clusters", "GlobalClusters"):
        members = g.get("GlobalClusterMembers", [])
        if not any(m.get("DBClusterArn") == arn for m in members):
            continue
        dr = [_name_of(m["DBClusterArn"]) for m in members if _region_of(m.get("DBClusterArn", "")) == scope.dr]
        return (found(g["GlobalClusterIdentifier"], src),
                one_of(dr, f"clusters of {g['GlobalClusterIdentifier']} in {scope.dr}", src,
                       none=f"the global database {g['GlobalClusterIdentifier']} has no cluster in {scope.dr}"))
    return Fact(None), Fact(None)


def _cross_region_cluster(cluster: dict[str, Any], scope: Scope) -> Fact:
    """An Aurora cross-region read replica cluster (no global database) in the DR region."""
    arn = cluster.get("DBClusterArn", "")
    names = [c["DBClusterIdentifier"] for c in _pages(scope.clients("rds", scope.dr), "describe_db_clusters", "DBClusters")
             if c.get("ReplicationSourceIdentifier") == arn]
    return one_of(names, f"replica clusters of {cluster['DBClusterIdentifier']}", f"rds:DescribeDBClusters {scope.dr}",
                  none=f"no replica cluster of {cluster['DBClusterIdentifier']} in {scope.dr}")


def discover_database(scope: Scope) -> dict[str, Fact]:
    """The ``aws.rds`` section: instance_id or cluster_id (with their DR counterparts), database name."""
    instances = [i for i in _instances(scope, scope.primary) if not i.get("ReadReplicaSourceDBInstanceIdentifier")]
    clusters = [c for c in _clusters(scope, scope.primary) if not c.get("ReplicationSourceIdentifier")]
    names = [i["DBInstanceIdentifier"] for i in instances] + [c["DBClusterIdentifier"] for c in clusters]
    where = f"tag {scope.tag} in {scope.primary}"
    if len(names) != 1:
        fact = one_of(names, "databases (RDS instances and Aurora clusters)", f"rds:DescribeDBInstances, "
                      f"rds:DescribeDBClusters {scope.primary}", none=f"no RDS instance or Aurora cluster with {where}")
        return {"instance_id": fact}
    if instances:
        inst = instances[0]
        out = {"instance_id": found(inst["DBInstanceIdentifier"], f"rds:DescribeDBInstances, {where}"),
               "dr_replica_id": _replica_of(inst, scope)}
        db = inst.get("DBName")
    else:
        cl = clusters[0]
        out = {"cluster_id": found(cl["DBClusterIdentifier"], f"rds:DescribeDBClusters, {where}")}
        global_id, dr_cluster = _global_of(cl, scope)
        if global_id.decided:
            out |= {"global_cluster_id": global_id, "dr_cluster_id": dr_cluster}
        else:
            out["dr_cluster_id"] = _cross_region_cluster(cl, scope)
        db = cl.get("DatabaseName")
    out["database"] = (found(db, f"the database's DBName ({names[0]})") if db else
                       todo("the database the heartbeat and reconciliation use (the instance names none)"))
    out["user"] = todo("the role the heartbeat and reconciliation connect as (not the master user)")
    out["password_env"] = found("GAMEDAY_DB_PASSWORD", "gameday's default: the variable the password is read from")
    return out
