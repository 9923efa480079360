"""MSK brokers of a failed zone are rebooted one at a time, each waited for. moto models neither ListNodes
nor RebootBroker nor DescribeClusterOperation: a recording stub (AWS_ENDPOINT_URL_KAFKA) keeps the cluster's
operations; the test checks the order of the requests gameday sends. The rest (EC2 subnets) is moto."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from werkzeug import Response

from gameday.config import load_environment
from gameday.errors import DriverError
from gameday.targets.aws import services, wait
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml

ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/events/abc"


class KafkaStub:
    def __init__(self, subnets: dict[str, str], outcome: str = "UPDATE_COMPLETE") -> None:
        self.subnets, self.outcome = subnets, outcome
        self.log: list[str] = []
        self.polls: dict[str, int] = {}
        self.overlap = False

    def answer(self, request):
        path = request.path
        if path.endswith("/nodes"):
            brokers = [(1, "a"), (2, "b"), (5, "b"), (3, "c"), (4, "b")]
            return self._json({"nodeInfoList": [{"brokerNodeInfo": {
                "brokerId": float(b), "clientSubnet": self.subnets[f"us-east-1{z}"]}} for b, z in brokers]})
        if path.endswith("/reboot-broker"):
            (b,) = request.get_json()["brokerIds"]
            self.overlap |= any(n < 2 for n in self.polls.values())  # an earlier reboot not yet complete
            self.polls[f"op-{b}"] = 0
            self.log.append(f"reboot {b}")
            return self._json({"clusterArn": ARN, "clusterOperationArn": f"op-{b}"})
        op = path.rsplit("/", 1)[-1]
        self.polls[op] += 1
        state = "UPDATE_IN_PROGRESS" if self.polls[op] < 2 else self.outcome
        self.log.append(f"{op} {state}")
        return self._json({"clusterOperationInfo": {"operationState": state, "errorInfo": {
            "errorCode": "BrokerNotReady", "errorString": "broker 2 did not come back"}}})

    @staticmethod
    def _json(body):
        return Response(json.dumps(body), content_type="application/json")


def _setup(tmp_path, httpserver, monkeypatch, outcome="UPDATE_COMPLETE"):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.213.0.0/16")["Vpc"]["VpcId"]
    subnets = {f"us-east-1{z}": ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.213.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in enumerate("abc")}
    stub = KafkaStub(subnets, outcome)
    httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_handler(stub.answer)
    monkeypatch.setenv("AWS_ENDPOINT_URL_KAFKA", httpserver.url_for("").rstrip("/"))
    zone = boto3.client("route53").create_hosted_zone(Name="example.com", CallerReference="k")["HostedZone"]["Id"]
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml({"zone_id": zone.split("/")[-1]}, extra=f"  msk_cluster_arn: {ARN}\n"))
    return AwsTarget(load_environment(env)), stub


def test_the_zones_brokers_are_rebooted_one_at_a_time_each_waited_for(moto, tmp_path, httpserver, monkeypatch):
    t, stub = _setup(tmp_path, httpserver, monkeypatch)
    assert services.msk_reboot_brokers_in_zone(t.session, t.actions, "us-east-1b") == ["2", "4", "5"]
    seen = [x for i, x in enumerate(stub.log) if i == 0 or x != stub.log[i - 1]]  # repeated polls as one
    assert seen == ["reboot 2", "op-2 UPDATE_IN_PROGRESS", "op-2 UPDATE_COMPLETE", "reboot 4", "op-4 UPDATE_IN_PROGRESS",
                    "op-4 UPDATE_COMPLETE", "reboot 5", "op-5 UPDATE_IN_PROGRESS", "op-5 UPDATE_COMPLETE"]
    assert not stub.overlap
    assert [c["params"] for c in t.actions.calls] == [{"BrokerIds": [b]} for b in ("2", "4", "5")]


def test_a_failed_reboot_stops_at_once_naming_the_operations_error(moto, tmp_path, httpserver, monkeypatch):
    t, stub = _setup(tmp_path, httpserver, monkeypatch, outcome="UPDATE_FAILED")
    with pytest.raises(DriverError) as info:
        services.msk_reboot_brokers_in_zone(t.session, t.actions, "us-east-1b")
    assert info.value.code == wait.TERMINAL and "UPDATE_FAILED (BrokerNotReady broker 2 did not come back)" in str(info.value)
    assert [x for x in stub.log if x.startswith("reboot")] == ["reboot 2"], "no other broker rebooted after it"
