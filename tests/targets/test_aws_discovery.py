"""`gameday init --aws` against a moto server over HTTP seeded like a staging account in two regions: the
environment file names the seeded resources (each with its source), marks what AWS cannot tell with TODO,
makes no call but read-only ones, and `gameday plan` accepts it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest
import yaml
from werkzeug import Response

from conftest import ROOT
from gameday.cli import main
from gameday.discover.run import DISCOVERY_ACTIONS

TAG = {"Key": "gameday:target", "Value": "staging"}
OTHER = {"Key": "gameday:target", "Value": "production"}
P, DR = "us-east-1", "us-west-2"
ELB = {P: "ingest-use1-1234.us-east-1.elb.amazonaws.com", DR: "ingest-usw2-5678.us-west-2.elb.amazonaws.com"}


def _network(region: str, cidr: str, zones: str) -> list[str]:
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnets = []
    for i, z in enumerate(zones):
        sn = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24", AvailabilityZone=f"{region}{z}")["Subnet"]
        ec2.create_tags(Resources=[sn["SubnetId"]], Tags=[TAG])
        subnets.append(sn["SubnetId"])
    return subnets


def _eks(region: str, name: str, subnets: list[str], tag: dict, *, nodes: bool = True) -> str:
    eks = boto3.client("eks", region_name=region)
    eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/eks", tags={tag["Key"]: tag["Value"]},
                       resourcesVpcConfig={"subnetIds": subnets})
    if not nodes:
        return ""
    ng = eks.create_nodegroup(clusterName=name, nodegroupName=f"{name}-nodes", subnets=subnets,
                              nodeRole="arn:aws:iam::123456789012:role/nodes")["nodegroup"]
    return ng["resources"]["autoScalingGroups"][0]["name"]


def _databases() -> None:
    rds, rds_dr = boto3.client("rds", region_name=P), boto3.client("rds", region_name=DR)
    for name, tag in (("ingest-staging", TAG), ("billing-prod", OTHER)):
        rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.r6g.large", Engine="postgres", DBName="ingest",
                               MasterUsername="master", MasterUserPassword="secret123", AllocatedStorage=100,
                               MultiAZ=True, Tags=[tag])
    arn = rds.describe_db_instances(DBInstanceIdentifier="ingest-staging")["DBInstances"][0]["DBInstanceArn"]
    rds_dr.create_db_instance_read_replica(DBInstanceIdentifier="ingest-staging-usw2", SourceDBInstanceIdentifier=arn,
                                           DBInstanceClass="db.r6g.large", Tags=[TAG])


def _services(subnets: list[str]) -> str:
    boto3.client("elasticache", region_name=P).create_replication_group(
        ReplicationGroupId="sessions-staging", ReplicationGroupDescription="sessions", Engine="valkey", Tags=[TAG])
    boto3.client("elasticache", region_name=P).create_replication_group(
        ReplicationGroupId="sessions-prod", ReplicationGroupDescription="sessions", Engine="valkey", Tags=[OTHER])
    msk = boto3.client("kafka", region_name=P).create_cluster_v2(ClusterName="events-staging", Tags={"gameday:target": "staging"},
        Provisioned={"BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": subnets},
                     "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": 3})
    cw = boto3.client("cloudwatch", region_name=P)
    for name, tag in (("ingest-staging-5xx-critical", TAG), ("ingest-staging-p99-critical", TAG), ("billing-cpu", OTHER)):
        cw.put_metric_alarm(AlarmName=name, MetricName="x", Namespace="ingest", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold", Tags=[tag])
    return msk["ClusterArn"]


def _dns() -> dict:
    r53 = boto3.client("route53", region_name=P)
    zone = r53.create_hosted_zone(Name="staging.example.com", CallerReference="staging")["HostedZone"]["Id"].split("/")[-1]
    r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone, AddTags=[TAG])
    r53.create_hosted_zone(Name="example.org", CallerReference="other")  # untagged: never read for records
    hc = r53.create_health_check(CallerReference="hc", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": ELB[P], "ResourcePath": "/healthz"})["HealthCheck"]["Id"]
    sets = [{"Name": "ingest.staging.example.com", "Type": "CNAME", "TTL": 60, "SetIdentifier": sid, "Failover": role,
             "ResourceRecords": [{"Value": ELB[region]}], **({"HealthCheckId": hc} if role == "PRIMARY" else {})}
            for sid, role, region in (("use1", "PRIMARY", P), ("usw2", "SECONDARY", DR))]
    sets.append({"Name": "grafana.staging.example.com", "Type": "CNAME", "TTL": 300,
                 "ResourceRecords": [{"Value": "grafana.internal"}]})
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": rs} for rs in sets]})
    return {"zone": zone, "health_check": hc}


def seed_staging() -> dict:
    """A staging account: network and EKS in both regions, an RDS primary with a cross-region replica, a cache,
    MSK, alarms, a failover record; and a production neighbour with another tag value, never selected."""
    subnets = _network(P, "10.10", "abc")
    dr_subnets = _network(DR, "10.20", "ab")
    _eks(P, "ingest-staging-use1", subnets, TAG)
    _eks(P, "billing-prod-use1", subnets, OTHER, nodes=False)
    dr_asg = _eks(DR, "ingest-staging-usw2", dr_subnets, TAG)
    _databases()
    msk = _services(subnets)
    return {"dr_asg": dr_asg, "msk": msk, **_dns()}


def _init(tmp_path: Path, *extra: str) -> Path:
    folder = tmp_path / "team"
    with pytest.raises(SystemExit) as info:
        main(["init", str(folder), "--aws", "--tag", "gameday:target=staging", "--regions", f"{P},{DR}", *extra])
    assert info.value.code == 0
    return folder


def _calls(monkeypatch) -> set[str]:
    """Every AWS API discovery sends, as IAM action names."""
    from gameday.discover import run

    sent: set[str] = set()
    opened = run.open_session

    def listening(*a, **kw):
        s = opened(*a, **kw)
        prefix = {"monitoring": "cloudwatch"}
        s.events.register("before-call", lambda model, **_: sent.add(
            f"{prefix.get(model.service_model.signing_name, model.service_model.signing_name)}:{model.name}"))
        return s

    monkeypatch.setattr(run, "open_session", listening)
    return sent


def _kubeconfig(tmp_path: Path, monkeypatch, contexts: list[str], server: str) -> None:
    """What `aws eks update-kubeconfig` writes for each cluster: a context named by the cluster's ARN (here
    every context's API server is a test server answering reads)."""
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": contexts[0],
           "clusters": [{"name": c, "cluster": {"server": server}} for c in contexts],
           "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts],
           "users": [{"name": c, "user": {"token": "none"}} for c in contexts]}
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))


def _kube_api(httpserver) -> list[str]:
    """A Kubernetes API with no nodes; the requests it got."""
    seen: list[str] = []

    def handle(request):
        seen.append(f"{request.method} {request.path}")
        if request.method == "GET" and request.path == "/api/v1/nodes":
            return Response(json.dumps({"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": []}),
                            content_type="application/json")
        return Response(json.dumps({"kind": "Status", "status": "Failure"}), status=404, content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handle)
    return seen


def test_discovery_writes_the_seeded_staging_account_with_sources_and_todos(moto, tmp_path, monkeypatch, capsys,
                                                                           httpserver):
    seeded = seed_staging()
    sent = _calls(monkeypatch)
    folder = _init(tmp_path)
    text = (folder / "environments" / "aws-staging.yaml").read_text()
    env = yaml.safe_load(text)
    aws = env["aws"]
    assert env["name"] == "aws-staging" and env["kind"] == "aws" and env["protected"] is True
    assert aws["account_id"] == "123456789012"
    assert (aws["primary_region"], aws["dr_region"]) == (P, DR)
    assert aws["zones"] == [f"{P}a", f"{P}b", f"{P}c"]
    assert aws["tag_filter"] == {"key": "gameday:target", "value": "staging"}
    assert aws["rds"] == {"instance_id": "ingest-staging", "dr_replica_id": "ingest-staging-usw2", "database": "ingest",
                          "password_env": "GAMEDAY_DB_PASSWORD"}
    assert aws["eks"][P]["cluster"] == "ingest-staging-use1" and aws["eks"][DR]["cluster"] == "ingest-staging-usw2"
    assert aws["eks"][DR]["kube_context"] == f"arn:aws:eks:{DR}:123456789012:cluster/ingest-staging-usw2"
    # moto's EKS names node group Auto Scaling groups its Auto Scaling does not have: a TODO naming it, no value
    assert "dr_node_group_asg" not in aws and f"Auto Scaling groups {seeded['dr_asg']} that" in text
    assert aws["elasticache_replication_group"] == "sessions-staging"
    assert aws["msk_cluster_arn"] == seeded["msk"]
    assert aws["stop_condition_alarms"] == ["ingest-staging-5xx-critical", "ingest-staging-p99-critical"]
    assert aws["route53"] == {"mode": "failover", "hosted_zone_id": seeded["zone"], "name": "ingest.staging.example.com",
                              "type": "CNAME", "primary_set_identifier": "use1", "dr_set_identifier": "usw2",
                              "primary_health_check_id": seeded["health_check"]}
    assert aws["public_url"] == "https://ingest.staging.example.com"
    # every value says where it came from
    for key in ("account_id", "zones", "instance_id", "dr_replica_id", "msk_cluster_arn", "hosted_zone_id"):
        line = next(li for li in text.splitlines() if li.strip().startswith(f"{key}:"))
        assert re.search(r"#\s*\S", line), f"no source for {key}: {line}"
    for key in ("name", "type"):  # the record's, from its zone's listing (not the listing of hosted zones)
        line = next(li for li in text.splitlines() if li.strip().startswith(f"{key}: ") and "route53" in li)
        assert f"route53:ListResourceRecordSets {seeded['zone']}" in line, line
    # what AWS cannot tell is a TODO, never a value presented as fact
    todos = {m.group(1) for m in re.finditer(r"^\s*#?\s*(\w+):.*TODO", text, re.M)}
    assert {"user", "ingest_namespace", "ingest_deployment", "dr_scaled_replicas", "public_url",
            "kube_context", "dr_node_group_asg"} <= todos, todos
    assert "service:" in text and "TODO" in text.split("service:")[1]
    assert re.search(r"# seen, not used: node group Auto Scaling groups of ingest-staging-use1: \S+; without tag", text)
    assert sent and sent <= set(DISCOVERY_ACTIONS), sorted(sent - set(DISCOVERY_ACTIONS))
    assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in DISCOVERY_ACTIONS)
    # the file is one `gameday plan` accepts, from the folder, once `aws eks update-kubeconfig` named the contexts
    kube_seen = _kube_api(httpserver)
    _kubeconfig(tmp_path, monkeypatch, [aws["eks"][r]["kube_context"] for r in (P, DR)], httpserver.url_for("").rstrip("/"))
    monkeypatch.chdir(folder)
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["plan", "drills/region-failover.yaml", "--env", "environments/aws-staging.yaml", "--confirm", "aws-staging"])
    out, err = capsys.readouterr()
    assert info.value.code == 0, err
    assert "rds:PromoteReadReplica" in out and "ingest-staging-usw2" in out and "nothing was changed" in out
    assert kube_seen and all(r.startswith("GET ") for r in kube_seen), kube_seen


def test_an_aurora_global_database_is_found_and_what_is_ambiguous_is_a_todo_the_file_refuses(moto, tmp_path, capsys):
    """Aurora global database; two tagged EKS clusters in the primary region (gameday picks neither); a simple
    record whose DR value Route 53 cannot show: the file names the candidates, and is refused until decided."""
    subnets = _network(P, "10.30", "ab")
    _eks(P, "ingest-a", subnets, TAG, nodes=False)
    _eks(P, "ingest-b", subnets, TAG, nodes=False)
    rds, rds_dr = boto3.client("rds", region_name=P), boto3.client("rds", region_name=DR)
    rds.create_global_cluster(GlobalClusterIdentifier="ingest-global", Engine="aurora-postgresql")
    rds.create_db_cluster(DBClusterIdentifier="ingest-aurora-use1", Engine="aurora-postgresql", MasterUsername="master",
                          MasterUserPassword="secret123", GlobalClusterIdentifier="ingest-global", DatabaseName="ingest",
                          Tags=[TAG])
    rds_dr.create_db_cluster(DBClusterIdentifier="ingest-aurora-usw2", Engine="aurora-postgresql",
                             GlobalClusterIdentifier="ingest-global", Tags=[TAG])
    r53 = boto3.client("route53", region_name=P)
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"].split("/")[-1]
    r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone, AddTags=[TAG])
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": "ingest.example.com", "Type": "CNAME", "TTL": 30, "ResourceRecords": [{"Value": ELB[P]}]}}]})
    folder = _init(tmp_path)
    path = folder / "environments" / "aws-staging.yaml"
    text = path.read_text()
    aws = yaml.safe_load(text)["aws"]
    assert aws["rds"]["cluster_id"] == "ingest-aurora-use1" and "instance_id" not in aws["rds"]
    assert aws["rds"]["global_cluster_id"] == "ingest-global" and aws["rds"]["dr_cluster_id"] == "ingest-aurora-usw2"
    assert aws["zones"] == [f"{P}a", f"{P}b"]
    assert P not in aws.get("eks", {}) and "2 EKS clusters in us-east-1 carry the tag (ingest-a, ingest-b)" in text
    assert aws["route53"]["mode"] == "simple" and aws["route53"]["primary_value"] == ELB[P]
    assert aws["route53"]["ttl"] == 30 and "dr_value" not in aws["route53"]
    assert re.search(r"# dr_value:.*TODO", text) and re.search(r"# elasticache_replication_group:.*TODO", text)
    assert aws["stop_condition_alarms"] == [] and re.search(r"stop_condition_alarms: \[\].*TODO", text)
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:  # an undecided value is never run with
        main(["plan", str(ROOT / "drills" / "region-failover.yaml"), "--env", str(path), "--confirm", "aws-staging"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "aws-staging.yaml" in err and "dr_value" in err, err


def test_a_tag_no_resource_carries_is_a_usage_error_and_writes_nothing(moto, tmp_path, capsys):
    seed_staging()
    folder = tmp_path / "team"
    with pytest.raises(SystemExit) as info:
        main(["init", str(folder), "--aws", "--tag", "gameday:target=stagign", "--regions", f"{P},{DR}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2 and len(err) == 1, err
    assert "--tag" in err[0] and "gameday:target=stagign" in err[0] and "spelling" in err[0]
    assert not folder.exists(), "a misspelt tag writes no folder of TODOs"
