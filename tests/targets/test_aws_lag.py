"""Lag as CloudWatch reports it, on a moto server (moto stores put_metric_data and answers get_metric_data):
MSK consumer lag of the environment's consumer group, and the DR replica's lag at T0 of a region isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3

from gameday.config import load_environment
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml, seed

LAG = "  msk_cluster_arn: arn:aws:kafka:us-east-1:123456789012:cluster/events/abc\n" \
      "  msk_consumer_lag: {consumer_group: ingest-writers, topic: trips}\n"


def _put(region: str, namespace: str, name: str, dims: dict[str, str], value: float, ago_s: float) -> None:
    boto3.client("cloudwatch", region_name=region).put_metric_data(Namespace=namespace, MetricData=[{
        "MetricName": name, "Value": value, "Timestamp": datetime.now(UTC) - timedelta(seconds=ago_s),
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]}])


def _target(tmp_path, seeded: dict, extra: str = "") -> AwsTarget:
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(seeded, extra=extra))
    return AwsTarget(load_environment(env))


def test_the_consumer_groups_lag_is_the_newest_datapoint_of_its_cluster_group_and_topic(moto, tmp_path, iam_calls):
    dims = {"Cluster Name": "events", "Consumer Group": "ingest-writers", "Topic": "trips"}
    _put("us-east-1", "AWS/Kafka", "MaxOffsetLag", dims, 9000, ago_s=150)
    _put("us-east-1", "AWS/Kafka", "MaxOffsetLag", dims, 1200, ago_s=30)  # the newest
    _put("us-east-1", "AWS/Kafka", "EstimatedMaxTimeLag", dims, 42, ago_s=30)
    _put("us-east-1", "AWS/Kafka", "MaxOffsetLag", {**dims, "Consumer Group": "other"}, 7, ago_s=10)
    got = _target(tmp_path, {"zone_id": "Z1"}, LAG).consumer_lag()
    assert got is not None
    assert (got["consumer_group"], got["topic"], got["max_offset_lag"], got["max_time_lag_s"]) == (
        "ingest-writers", "trips", 1200, 42)
    assert "cloudwatch:GetMetricData" in set().union(*(calls for _, calls in iam_calls))


def test_no_datapoint_is_no_figure_and_says_why(moto, tmp_path):
    got = _target(tmp_path, {"zone_id": "Z1"}, LAG).consumer_lag()
    assert got is not None and got["max_offset_lag"] is None and got["max_time_lag_s"] is None
    assert "STABLE or EMPTY" in got["why_none"]
    assert _target(tmp_path, {"zone_id": "Z1"}).consumer_lag() is None, "no consumer group named: nothing to read"


def test_a_region_isolation_journals_the_dr_replicas_lag_at_t0(moto, tmp_path):
    s = seed()
    _put("us-west-2", "AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": "ingest-db-dr"}, 3.0, ago_s=40)
    t = _target(tmp_path, s)
    out = t.fail_region("us-east-1").detail
    assert out["replica_lag_at_t0"]["metric"] == "ReplicaLag" and out["replica_lag_at_t0"]["lag_s"] == 3.0
    assert out["managed_replication"] == "not stopped by the NACL isolation"
    t.restore()


def test_an_aurora_global_databases_lag_is_read_in_milliseconds_and_given_in_seconds(moto, tmp_path):
    from gameday.targets.aws import lag

    _put("us-west-2", "AWS/RDS", "AuroraGlobalDBReplicationLag", {"DBClusterIdentifier": "ingest-dr"}, 850, ago_s=20)
    text = environment_yaml({"zone_id": "Z1"}).replace(
        "rds: {instance_id: ingest-db, dr_replica_id: ingest-db-dr}",
        "rds: {cluster_id: ingest, dr_cluster_id: ingest-dr, global_cluster_id: ingest-global}")
    (tmp_path / "aws.yaml").write_text(text)
    t = AwsTarget(load_environment(tmp_path / "aws.yaml"))
    got = lag.replica_lag(t.session)
    assert (got["metric"], got["lag_s"]) == ("AuroraGlobalDBReplicationLag", 0.85)
