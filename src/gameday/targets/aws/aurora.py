"""Aurora Global Database as runbook actions (boto3: chaosaws has none), each waiting for the new primary:

- ``failover``: unplanned, ``failover_global_cluster(AllowDataLoss=True)`` to the DR cluster (what
  ``promote_dr_db`` means on a global database: the primary region is gone, its unreplicated writes too);
- ``switchover``: planned, ``switchover_global_cluster`` (no data loss: Aurora waits for the secondary
  to catch up), what ``return_primary_db`` means;
- ``wait_secondary``: a cluster is a member again, as a secondary (after a failover Aurora adds the old
  primary back once its region recovers; ``rebuild_primary_region`` and ``rebuild_dr_db`` check that).
"""

from __future__ import annotations

from typing import Any

from gameday.errors import ConfigError
from gameday.targets.aws import wait
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["cluster_arn", "members", "writer_arn", "failover", "switchover", "wait_secondary"]


def _gid(s: AwsSession) -> str:
    gid = s.settings.rds.global_cluster_id
    if not gid:
        raise ConfigError("not an Aurora global database", field="aws.rds.global_cluster_id")
    return gid


def cluster_arn(s: AwsSession, region: str) -> str:
    """The ARN of the environment's cluster in ``region``, built rather than described: the primary region's
    API may be the thing that is down when the DR cluster must be promoted."""
    r = s.settings.rds
    ident = r.dr_cluster_id if region == s.settings.dr_region else r.cluster_id
    return f"arn:aws:rds:{region}:{s.settings.account_id}:cluster:{ident}"


def _rds(s: AwsSession) -> Any:
    """Global-cluster calls go to the DR region's endpoint: it answers whether or not the primary region does."""
    return s.client("rds", s.settings.dr_region)


def _global(s: AwsSession) -> dict[str, Any]:
    found = _rds(s).describe_global_clusters(GlobalClusterIdentifier=_gid(s))["GlobalClusters"]
    return found[0] if found else {}


def members(s: AwsSession) -> list[dict[str, Any]]:
    return list(_global(s).get("GlobalClusterMembers", []))


def writer_arn(s: AwsSession) -> str | None:
    return next((m["DBClusterArn"] for m in members(s) if m.get("IsWriter")), None)


def _describe(s: AwsSession) -> str:
    g = _global(s)
    return f"status {g.get('Status')}, writer {writer_arn(s)}"


def _wait_writer(s: AwsSession, acts: Actions, region: str, arn: str) -> None:
    def done() -> bool:
        g = _global(s)
        writer = next((m["DBClusterArn"] for m in g.get("GlobalClusterMembers", []) if m.get("IsWriter")), None)
        return writer == arn and g.get("Status") == "available"

    wait.until(s, acts, f"the global cluster {_gid(s)}'s primary to be the {region} cluster", done, lambda: _describe(s))


def failover(s: AwsSession, acts: Actions) -> dict[str, Any]:
    dr = s.settings.dr_region
    arn = cluster_arn(s, dr)
    acts.do("rds:FailoverGlobalCluster", _gid(s), lambda: _rds(s).failover_global_cluster(
        GlobalClusterIdentifier=_gid(s), TargetDbClusterIdentifier=arn, AllowDataLoss=True),
        TargetDbClusterIdentifier=arn, AllowDataLoss=True)
    _wait_writer(s, acts, dr, arn)
    return {"global_cluster": _gid(s), "primary": arn, "region": dr, "allow_data_loss": True}


def switchover(s: AwsSession, acts: Actions, region: str) -> dict[str, Any]:
    arn = cluster_arn(s, region)
    acts.do("rds:SwitchoverGlobalCluster", _gid(s), lambda: _rds(s).switchover_global_cluster(
        GlobalClusterIdentifier=_gid(s), TargetDbClusterIdentifier=arn), TargetDbClusterIdentifier=arn)
    _wait_writer(s, acts, region, arn)
    return {"global_cluster": _gid(s), "primary": arn, "region": region}


def wait_secondary(s: AwsSession, acts: Actions, region: str) -> dict[str, Any]:
    arn = cluster_arn(s, region)
    wait.until(s, acts, f"the {region} cluster to be a secondary of {_gid(s)} again",
               lambda: any(m["DBClusterArn"] == arn and not m.get("IsWriter") for m in members(s)),
               lambda: _describe(s))
    return {"global_cluster": _gid(s), "secondary": arn, "region": region}
