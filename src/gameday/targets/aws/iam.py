"""The least-privilege IAM policy the AWS driver needs for an environment (printed by `gameday iam-policy`)."""

from __future__ import annotations

from typing import Any

from gameday.config_aws import AwsSettings

__all__ = ["iam_policy"]


def iam_policy(a: AwsSettings, upload: tuple[str, str] | None = None) -> dict[str, Any]:
    """The policy; with ``upload`` (bucket, prefix), also what ``drill run --upload`` and reading the runs back
    (``gameday report`` / ``history`` on s3://) need, and nothing else of the bucket."""
    acct, regions = a.account_id, [a.primary_region, a.dr_region]
    tag_cond = {"StringEquals": {f"aws:ResourceTag/{a.tag_filter.key}": a.tag_filter.value}}
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadOnlyResolution", "Effect": "Allow", "Resource": "*", "Action": [
            "sts:GetCallerIdentity", "ec2:DescribeInstances", "ec2:DescribeSubnets", "ec2:DescribeNetworkAcls",
            "autoscaling:DescribeAutoScalingGroups", "rds:DescribeDBInstances", "rds:DescribeDBClusters",
            "rds:DescribeGlobalClusters", "cloudwatch:DescribeAlarms",
            "cloudwatch:GetMetricData"]},  # the DR replica's lag at T0, MSK consumer lag (no resource-level grant)
        {"Sid": "TaggedInstancesOnly", "Effect": "Allow", "Condition": tag_cond,
         "Resource": [f"arn:aws:ec2:{r}:{acct}:instance/*" for r in regions],
         "Action": ["ec2:StopInstances", "ec2:StartInstances", "ec2:TerminateInstances", "ec2:CreateTags",
                    "ec2:DeleteTags"]},
        {"Sid": "TaggedAutoScalingGroupsOnly", "Effect": "Allow", "Condition": tag_cond,
         "Resource": [f"arn:aws:autoscaling:{r}:{acct}:autoScalingGroup:*:autoScalingGroupName/*" for r in regions],
         "Action": ["autoscaling:SuspendProcesses", "autoscaling:ResumeProcesses", "autoscaling:UpdateAutoScalingGroup",
                    "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"]},
    ]
    statements += _network(a, tag_cond)
    statements += _database(a)
    statements += _restores(a)
    statements[0]["Action"] += ["rds:DescribeDBInstanceAutomatedBackups", "rds:DescribeDBSnapshots",  # restores
                                "rds:DescribeDBClusterSnapshots"]
    statements += _dns(a)
    if a.elasticache or a.elasticache_replication_group:
        statements += _cache(a, tag_cond)
    if a.msk_cluster_arn:
        statements.append({"Sid": "Kafka", "Effect": "Allow", "Resource": a.msk_cluster_arn,
                           "Action": ["kafka:ListNodes", "kafka:RebootBroker"]})
        statements[0]["Action"] += ["ec2:DescribeSubnets", "kafka:DescribeClusterOperation"]
    if a.region_switch is not None:
        statements.append({"Sid": "RegionSwitchPlan", "Effect": "Allow", "Resource": a.region_switch.plan_arn,
                           "Action": ["arc-region-switch:StartPlanExecution", "arc-region-switch:GetPlanExecution"]})
    templates = [t for t in (a.fis_az_template_id, a.fis_spot_template_id, a.fis_region_template_id,
                             a.fis_cache_template_id) if t]
    if templates:
        statements.append({"Sid": "Fis", "Effect": "Allow",
                           "Resource": [f"arn:aws:fis:{a.primary_region}:{acct}:experiment-template/{t}" for t in templates]
                           + [f"arn:aws:fis:{a.primary_region}:{acct}:experiment/*"],
                           "Action": ["fis:StartExperiment", "fis:TagResource", "fis:StopExperiment",
                                      "fis:GetExperiment"]})
        statements[0]["Action"].append("fis:ListExperiments")
    if a.dr_node_group_asg:
        statements.append({"Sid": "DrScale", "Effect": "Allow", "Condition": tag_cond,
                           "Resource": (f"arn:aws:autoscaling:{a.dr_region}:{acct}:autoScalingGroup:*:"
                                        f"autoScalingGroupName/{a.dr_node_group_asg}"),
                           "Action": ["autoscaling:UpdateAutoScalingGroup", "autoscaling:CreateOrUpdateTags",
                                      "autoscaling:DeleteTags"]})
    if upload is not None:
        statements += _results(*upload)
    statements[0]["Action"] = sorted(set(statements[0]["Action"]))
    return {"Version": "2012-10-17", "Statement": statements}


def _cache(a: AwsSettings, tag_cond: dict[str, Any]) -> list[dict[str, Any]]:
    """The replication groups are found by their tags (read anywhere); only tagged ones are failed over; the
    Global Datastore's failover names the global group (untaggable) and the DR region's tagged group."""
    acct = a.account_id
    groups = [f"arn:aws:elasticache:{r}:{acct}:replicationgroup:*" for r in (a.primary_region, a.dr_region)]
    return [
        {"Sid": "CacheResolution", "Effect": "Allow", "Resource": "*", "Action": [
            "elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource",
            "elasticache:DescribeGlobalReplicationGroups"]},
        {"Sid": "TaggedCacheOnly", "Effect": "Allow", "Condition": tag_cond, "Resource": groups,
         "Action": ["elasticache:TestFailover", "elasticache:FailoverGlobalReplicationGroup"]},
        {"Sid": "CacheGlobalDatastore", "Effect": "Allow", "Resource": f"arn:aws:elasticache::{acct}:globalreplicationgroup:*",
         "Action": ["elasticache:FailoverGlobalReplicationGroup"]}]


def _results(bucket: str, prefix: str) -> list[dict[str, Any]]:
    """``drill run --upload`` and reading runs back: objects under the prefix, listing only below it."""
    keys = f"{prefix}/*" if prefix else "*"
    return [{"Sid": "DrillResults", "Effect": "Allow", "Resource": f"arn:aws:s3:::{bucket}/{keys}",
             "Action": ["s3:PutObject", "s3:GetObject"]},
            {"Sid": "DrillResultsList", "Effect": "Allow", "Resource": f"arn:aws:s3:::{bucket}",
             "Action": ["s3:ListBucket"], "Condition": {"StringLike": {"s3:prefix": [keys]}}}]


def _database(a: AwsSettings) -> list[dict[str, Any]]:
    """Failover, promotion, and the failback: replicas created across regions (source and target ARNs both),
    the old instances renamed out of the way (``-pre-failback-*``, never deleted), the promotion tag; an
    Aurora global database's failover and switchover."""
    acct, r = a.account_id, a.rds
    db: list[str] = []
    for region, ident in ((a.primary_region, r.instance_id), (a.dr_region, r.dr_replica_id)):
        if ident:
            db += [f"arn:aws:rds:{region}:{acct}:db:{ident}", f"arn:aws:rds:{region}:{acct}:db:{ident}-pre-failback-*"]
    for region, ident in ((a.primary_region, r.cluster_id), (a.dr_region, r.dr_cluster_id)):
        if ident:
            db.append(f"arn:aws:rds:{region}:{acct}:cluster:{ident}")
    actions = ["rds:RebootDBInstance", "rds:FailoverDBCluster", "rds:PromoteReadReplica", "rds:AddTagsToResource",
               "rds:CreateDBInstanceReadReplica", "rds:ModifyDBInstance"]
    if r.global_cluster_id:
        db.append(f"arn:aws:rds::{acct}:global-cluster:{r.global_cluster_id}")
        actions += ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"]
    regions = (a.primary_region, a.dr_region)
    # the rebuilt replica is created with the original's groups and (encrypted) a KMS key of its region
    groups = [f"arn:aws:rds:{region}:{acct}:{kind}:*" for region in regions for kind in ("subgrp", "pg", "og", "secgrp")]
    return [{"Sid": "Database", "Effect": "Allow", "Resource": db, "Action": actions},
            {"Sid": "DatabaseRebuildGroups", "Effect": "Allow", "Resource": groups,
             "Action": ["rds:CreateDBInstanceReadReplica"]},
            {"Sid": "DatabaseRebuildKms", "Effect": "Allow", "Resource": [f"arn:aws:kms:{r}:{acct}:key/*" for r in regions],
             "Action": ["kms:CreateGrant", "kms:DescribeKey"],
             "Condition": {"StringEquals": {"kms:ViaService": [f"rds.{r}.amazonaws.com" for r in regions]}}}]


def _restores(a: AwsSettings) -> list[dict[str, Any]]:
    """Restore drills (docs/restore.md): restores of the environment's database (or its snapshots) into NEW
    instances, which must be created with the tag filter's tag and ``gameday:restore-of``; deletion only of
    instances carrying ``gameday:restore-of`` (never the database it protects); ``swap_writer``'s renames of the
    original (to ``-pre-restore-*``, tagged) and of restored instances. RDS authorises a restore on the new
    instance and on the source, and tags given at creation with AddTagsToResource."""
    acct, r, region = a.account_id, a.rds, a.primary_region
    tagged = {"StringEquals": {f"aws:RequestTag/{a.tag_filter.key}": a.tag_filter.value},
              "StringLike": {"aws:RequestTag/gameday:restore-of": "?*"}}
    new_db = f"arn:aws:rds:{region}:{acct}:db:*"
    groups = [f"arn:aws:rds:{region}:{acct}:{kind}:*" for kind in ("subgrp", "pg", "og", "secgrp")]
    if r.cluster_id:
        source = [f"arn:aws:rds:{region}:{acct}:cluster:{r.cluster_id}"]
        new = [f"arn:aws:rds:{region}:{acct}:cluster:*", new_db]
        restore, delete = ["rds:RestoreDBClusterToPointInTime", "rds:CreateDBInstance"], ["rds:DeleteDBInstance",
                                                                                          "rds:DeleteDBCluster"]
    else:
        source = [f"arn:aws:rds:{region}:{acct}:db:{r.instance_id}", f"arn:aws:rds:{region}:{acct}:snapshot:*"]
        new = [new_db]
        restore = ["rds:RestoreDBInstanceToPointInTime", "rds:RestoreDBInstanceFromDBSnapshot"]
        delete = ["rds:DeleteDBInstance"]
    out: list[dict[str, Any]] = []
    if not r.cluster_id:  # swap_writer: the original renamed (kept) and tagged, a restored instance renamed
        out = [{"Sid": "SwapRenamesTheOriginal", "Effect": "Allow",
                "Resource": [f"arn:aws:rds:{region}:{acct}:db:{r.instance_id}",
                             f"arn:aws:rds:{region}:{acct}:db:{r.instance_id}-pre-restore-*"],
                "Action": ["rds:ModifyDBInstance", "rds:AddTagsToResource", "rds:RemoveTagsFromResource"]},
               {"Sid": "SwapRenamesRestoredInstances", "Effect": "Allow", "Resource": new_db,
                "Action": ["rds:ModifyDBInstance"],
                "Condition": {"StringLike": {"aws:ResourceTag/gameday:restore-of": "?*"}}}]
    return out + [{"Sid": "RestoreFromTheDatabase", "Effect": "Allow", "Resource": source + groups, "Action": restore},
            {"Sid": "RestoreIntoNewTaggedInstances", "Effect": "Allow", "Resource": new, "Condition": tagged,
             "Action": [*restore, "rds:AddTagsToResource"]},
            {"Sid": "DeleteRestoredInstancesOnly", "Effect": "Allow", "Resource": new, "Action": delete,
             "Condition": {"StringLike": {"aws:ResourceTag/gameday:restore-of": "?*"}}}]


def _dns(a: AwsSettings) -> list[dict[str, Any]]:
    """The DNS mode's calls: the record (and its change's INSYNC), the failover primary's health check, or
    the ARC routing controls (and no record)."""
    r = a.route53
    if r.mode == "arc_routing_control":
        assert r.arc is not None
        return [{"Sid": "RoutingControls", "Effect": "Allow", "Resource": [r.arc.primary_control_arn, r.arc.dr_control_arn],
                 "Action": ["route53-recovery-cluster:GetRoutingControlState",
                            "route53-recovery-cluster:UpdateRoutingControlStates"]}]
    out: list[dict[str, Any]] = [{"Sid": "FailoverRecord", "Effect": "Allow",
                                  "Resource": f"arn:aws:route53:::hostedzone/{r.hosted_zone_id}",
                                  "Action": ["route53:ListResourceRecordSets"]}]
    if r.mode == "failover":
        out.append({"Sid": "FailoverHealthCheck", "Effect": "Allow",
                    "Resource": f"arn:aws:route53:::healthcheck/{r.primary_health_check_id}",
                    "Action": ["route53:GetHealthCheck"]
                    + (["route53:UpdateHealthCheck"] if r.failover_switch == "health_check" else [])})
    if r.mode != "failover" or r.failover_switch == "records":
        out[0]["Action"].append("route53:ChangeResourceRecordSets")
        out.append({"Sid": "FailoverRecordInSync", "Effect": "Allow", "Resource": "arn:aws:route53:::change/*",
                    "Action": ["route53:GetChange"]})
    return out


def _network(a: AwsSettings, tag_cond: dict[str, Any]) -> list[dict[str, Any]]:
    """Region isolation (either region) and the zone blackhole: a deny-all NACL created with the tag filter's tag
    (and only so), entries on and deletion of tagged NACLs only, and subnets swapped only when they carry the tag
    filter. The association back to a subnet's original NACL (the team's, untagged) is allowed on any NACL but
    still only for tagged subnets. The record of the original associations: gameday's own SSM parameters."""
    acct, regions = a.account_id, [a.primary_region, a.dr_region]
    k, v = a.tag_filter.key, a.tag_filter.value

    def arns(kind: str) -> list[str]:
        return [f"arn:aws:ec2:{r}:{acct}:{kind}/*" for r in regions]

    return [
        {"Sid": "IsolationNaclCreatedTagged", "Effect": "Allow", "Resource": arns("network-acl"),
         "Action": ["ec2:CreateNetworkAcl"], "Condition": {"StringEquals": {f"aws:RequestTag/{k}": v}}},
        {"Sid": "IsolationNaclInVpc", "Effect": "Allow", "Resource": arns("vpc"), "Action": ["ec2:CreateNetworkAcl"]},
        {"Sid": "IsolationNaclTagOnCreate", "Effect": "Allow", "Resource": arns("network-acl"),
         "Action": ["ec2:CreateTags"], "Condition": {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl"}}},
        {"Sid": "IsolationTaggedNaclsOnly", "Effect": "Allow", "Resource": arns("network-acl"), "Condition": tag_cond,
         "Action": ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"]},
        {"Sid": "IsolationTaggedSubnetsOnly", "Effect": "Allow", "Resource": arns("subnet"), "Condition": tag_cond,
         "Action": ["ec2:ReplaceNetworkAclAssociation"]},
        {"Sid": "IsolationAnyNaclBack", "Effect": "Allow", "Resource": arns("network-acl"),
         "Action": ["ec2:ReplaceNetworkAclAssociation"]},
        {"Sid": "IsolationRecord", "Effect": "Allow",  # the original associations: one document per change
         "Resource": [f"arn:aws:ssm:{r}:{acct}:parameter/gameday/{v}/*" for r in regions],
         "Action": ["ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter"]},
    ]
