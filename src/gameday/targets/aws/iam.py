"""The least-privilege IAM policy the AWS driver needs for an environment (printed by `gameday iam-policy`)."""

from __future__ import annotations

from typing import Any

from gameday.config_aws import AwsSettings

__all__ = ["iam_policy"]


def iam_policy(a: AwsSettings) -> dict[str, Any]:
    acct, regions = a.account_id, [a.primary_region, a.dr_region]
    tag_cond = {"StringEquals": {f"aws:ResourceTag/{a.tag_filter.key}": a.tag_filter.value}}
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadOnlyResolution", "Effect": "Allow", "Resource": "*", "Action": [
            "sts:GetCallerIdentity", "ec2:DescribeInstances", "ec2:DescribeSubnets", "ec2:DescribeNetworkAcls",
            "autoscaling:DescribeAutoScalingGroups", "rds:DescribeDBInstances", "rds:DescribeDBClusters",
            "cloudwatch:DescribeAlarms"]},
        {"Sid": "TaggedInstancesOnly", "Effect": "Allow", "Condition": tag_cond,
         "Resource": [f"arn:aws:ec2:{r}:{acct}:instance/*" for r in regions],
         "Action": ["ec2:StopInstances", "ec2:StartInstances", "ec2:TerminateInstances", "ec2:CreateTags",
                    "ec2:DeleteTags"]},
        {"Sid": "TaggedAutoScalingGroupsOnly", "Effect": "Allow", "Condition": tag_cond,
         "Resource": [f"arn:aws:autoscaling:{r}:{acct}:autoScalingGroup:*:autoScalingGroupName/*" for r in regions],
         "Action": ["autoscaling:SuspendProcesses", "autoscaling:ResumeProcesses", "autoscaling:UpdateAutoScalingGroup",
                    "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"]},
    ]
    if a.blackhole_network:
        statements.append({"Sid": "NetworkBlackhole", "Effect": "Allow",
                           "Resource": [f"arn:aws:ec2:{a.primary_region}:{acct}:network-acl/*",
                                        f"arn:aws:ec2:{a.primary_region}:{acct}:subnet/*",
                                        f"arn:aws:ec2:{a.primary_region}:{acct}:vpc/*"],
                           "Action": ["ec2:CreateNetworkAcl", "ec2:ReplaceNetworkAclAssociation", "ec2:DeleteNetworkAcl",
                                      "ec2:CreateTags"]})
    r = a.rds
    db: list[str] = []
    if r.instance_id:
        db.append(f"arn:aws:rds:{a.primary_region}:{acct}:db:{r.instance_id}")
    if r.cluster_id:
        db.append(f"arn:aws:rds:{a.primary_region}:{acct}:cluster:{r.cluster_id}")
    if r.dr_replica_id:
        db.append(f"arn:aws:rds:{a.dr_region}:{acct}:db:{r.dr_replica_id}")
    statements.append({"Sid": "Database", "Effect": "Allow", "Resource": db,
                       "Action": ["rds:RebootDBInstance", "rds:FailoverDBCluster", "rds:PromoteReadReplica"]})
    statements.append({"Sid": "FailoverRecord", "Effect": "Allow",
                       "Resource": f"arn:aws:route53:::hostedzone/{a.route53.hosted_zone_id}",
                       "Action": ["route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"]})
    if a.elasticache_replication_group:
        statements.append({"Sid": "Cache", "Effect": "Allow",
                           "Resource": (f"arn:aws:elasticache:{a.primary_region}:{acct}:"
                                        f"replicationgroup:{a.elasticache_replication_group}"),
                           "Action": ["elasticache:DescribeReplicationGroups", "elasticache:TestFailover"]})
    if a.msk_cluster_arn:
        statements.append({"Sid": "Kafka", "Effect": "Allow", "Resource": a.msk_cluster_arn,
                           "Action": ["kafka:ListNodes", "kafka:RebootBroker"]})
        statements[0]["Action"].append("ec2:DescribeSubnets")
    templates = [t for t in (a.fis_az_template_id, a.fis_spot_template_id) if t]
    if templates:
        statements.append({"Sid": "Fis", "Effect": "Allow",
                           "Resource": [f"arn:aws:fis:{a.primary_region}:{acct}:experiment-template/{t}" for t in templates]
                           + [f"arn:aws:fis:{a.primary_region}:{acct}:experiment/*"],
                           "Action": ["fis:StartExperiment", "fis:TagResource"]})
    if a.dr_node_group_asg:
        statements.append({"Sid": "DrScale", "Effect": "Allow", "Condition": tag_cond,
                           "Resource": (f"arn:aws:autoscaling:{a.dr_region}:{acct}:autoScalingGroup:*:"
                                        f"autoScalingGroupName/{a.dr_node_group_asg}"),
                           "Action": ["autoscaling:UpdateAutoScalingGroup"]})
    statements[0]["Action"] = sorted(set(statements[0]["Action"]))
    return {"Version": "2012-10-17", "Statement": statements}
