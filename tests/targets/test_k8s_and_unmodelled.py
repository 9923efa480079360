"""Kubernetes calls against recorded API responses served by a local HTTP server that asserts the requests;
ElastiCache failover and MSK broker reboots (not modelled by moto) checked by the request gameday sends."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from kubernetes import client
from werkzeug import Response

from gameday.config import load_environment
from gameday.errors import DriverError
from gameday.targets.aws.k8s import Kube
from gameday.targets.aws.session import Actions
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml, seed

NODES = {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": [
    {"metadata": {"name": "ip-10-0-1-10", "labels": {"topology.kubernetes.io/zone": "us-east-1b"}},
     "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
    {"metadata": {"name": "ip-10-0-1-11", "labels": {"topology.kubernetes.io/zone": "us-east-1b",
                                                     "karpenter.sh/capacity-type": "spot"}},
     "status": {"conditions": [{"type": "Ready", "status": "False"}]}}]}


def _pods(node: str) -> dict:
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [
        {"metadata": {"name": f"trip-ingest-{node[-2:]}", "namespace": "ingest",
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "trip-ingest-7d9",
                                           "uid": "u1"}]}},
        {"metadata": {"name": f"aws-node-{node[-2:]}", "namespace": "kube-system",
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "aws-node", "uid": "u2"}]}}]}


@pytest.fixture
def kube(httpserver):
    seen: list[tuple[str, str, str, dict]] = []

    def handle(request):
        body = request.get_json(silent=True) or {}
        seen.append((request.method, request.path, request.query_string.decode(), body))
        if request.path == "/api/v1/nodes":
            return Response(json.dumps(NODES), content_type="application/json")
        if request.path.startswith("/api/v1/nodes/") and request.method == "PATCH":
            name = request.path.rsplit("/", 1)[1]
            return Response(json.dumps({"metadata": {"name": name}, "spec": body.get("spec", {})}),
                            content_type="application/json")
        if request.path == "/api/v1/pods":
            node = parse_qs(request.query_string.decode())["fieldSelector"][0].split("=")[1]
            return Response(json.dumps(_pods(node)), content_type="application/json")
        if request.path.endswith("/eviction") and request.method == "POST":
            return Response(json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Success"}), status=201,
                            content_type="application/json")
        if request.path.endswith("/deployments/trip-ingest/status"):  # ready replicas grow one per read
            ready = sum(1 for m, p, *_ in seen if p == request.path)
            return Response(json.dumps({"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "trip-ingest"},
                                        "status": {"readyReplicas": ready}}), content_type="application/json")
        if request.path.endswith("/scale") and request.method == "PATCH":
            return Response(json.dumps({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "trip-ingest"},
                                        "spec": body["spec"]}), content_type="application/json")
        return Response(json.dumps({"kind": "Status", "status": "Failure", "message": "unexpected"}), status=404,
                        content_type="application/json")

    import re
    httpserver.expect_request(re.compile(".*")).respond_with_handler(handle)
    cfg = client.Configuration()
    cfg.host = httpserver.url_for("").rstrip("/")
    return client.ApiClient(cfg), seen


def test_cordon_patch_eviction_post_and_scale_are_the_requests_sent(kube):
    api, seen = kube
    k = Kube(api, "topology.kubernetes.io/zone", "karpenter.sh/capacity-type")
    nodes = k.nodes(zone="us-east-1b")
    assert nodes == ["ip-10-0-1-10", "ip-10-0-1-11"]
    out = k.cordon_and_drain(Actions(), nodes)
    assert out["evicted"] == ["ingest/trip-ingest-10", "ingest/trip-ingest-11"], "DaemonSet pods are left alone"
    k.scale(Actions(), "ingest", "trip-ingest", 6)
    assert ("GET", "/api/v1/nodes", "labelSelector=topology.kubernetes.io%2Fzone%3Dus-east-1b", {}) == seen[0]
    patches = [(p, b) for m, p, q, b in seen if m == "PATCH" and p.startswith("/api/v1/nodes/")]
    assert patches == [("/api/v1/nodes/ip-10-0-1-10", {"spec": {"unschedulable": True}}),
                       ("/api/v1/nodes/ip-10-0-1-11", {"spec": {"unschedulable": True}})]
    evictions = [(p, b) for m, p, q, b in seen if p.endswith("/eviction")]
    assert [p for p, _ in evictions] == ["/api/v1/namespaces/ingest/pods/trip-ingest-10/eviction",
                                         "/api/v1/namespaces/ingest/pods/trip-ingest-11/eviction"]
    assert all(b["metadata"]["name"] in p for p, b in evictions)
    assert seen[-1][:2] == ("PATCH", "/apis/apps/v1/namespaces/ingest/deployments/trip-ingest/scale")
    assert seen[-1][3] == {"spec": {"replicas": 6}}


def test_a_planned_drain_sends_no_change(kube):
    api, seen = kube
    k = Kube(api, "topology.kubernetes.io/zone", "karpenter.sh/capacity-type")
    acts = Actions(plan_only=True)
    k.cordon_and_drain(acts, k.nodes(zone="us-east-1b"))
    assert {m for m, *_ in seen} == {"GET"}, "a plan reads, never writes"
    assert [c["api"] for c in acts.calls].count("k8s:CreateEviction") == 2


def test_elasticache_and_msk_requests_in_the_failed_zone(moto, tmp_path, httpserver, monkeypatch):
    """moto models neither ElastiCache test_failover nor MSK reboot_broker: a stub answers them."""
    s = seed()
    sent: list[tuple[str, dict]] = []

    def elasticache(request):
        form = parse_qs(request.get_data(as_text=True))
        action = form["Action"][0]
        sent.append((action, {k: v[0] for k, v in form.items()}))
        if action == "DescribeReplicationGroups":
            xml = ("<DescribeReplicationGroupsResponse><DescribeReplicationGroupsResult><ReplicationGroups><ReplicationGroup>"
                   "<ReplicationGroupId>sessions</ReplicationGroupId><NodeGroups><NodeGroup><NodeGroupId>0001</NodeGroupId>"
                   "<NodeGroupMembers><NodeGroupMember><CacheClusterId>sessions-001</CacheClusterId><CurrentRole>primary"
                   "</CurrentRole><PreferredAvailabilityZone>us-east-1b</PreferredAvailabilityZone></NodeGroupMember>"
                   "</NodeGroupMembers></NodeGroup></NodeGroups></ReplicationGroup></ReplicationGroups>"
                   "</DescribeReplicationGroupsResult></DescribeReplicationGroupsResponse>")
        else:
            xml = ("<TestFailoverResponse><TestFailoverResult><ReplicationGroup><ReplicationGroupId>sessions"
                   "</ReplicationGroupId></ReplicationGroup></TestFailoverResult></TestFailoverResponse>")
        return Response(xml, content_type="text/xml")

    def kafka(request):
        sent.append((request.method + " " + request.path, request.get_json(silent=True) or {}))
        if request.path.endswith("/nodes"):
            return Response(json.dumps({"nodeInfoList": [
                {"brokerNodeInfo": {"brokerId": 2.0, "clientSubnet": s["subnets"]["us-east-1b"]}},
                {"brokerNodeInfo": {"brokerId": 1.0, "clientSubnet": s["subnets"]["us-east-1a"]}}]}),
                content_type="application/json")
        return Response(json.dumps({"clusterArn": "arn", "clusterOperationArn": "op"}), content_type="application/json")

    httpserver.expect_request("/elasticache").respond_with_handler(elasticache)
    import re
    httpserver.expect_request(re.compile(r"/v1/clusters/.*")).respond_with_handler(kafka)
    httpserver.expect_request(re.compile(r"/v1/operations/.*")).respond_with_json(
        {"clusterOperationInfo": {"operationState": "UPDATE_COMPLETE"}})
    monkeypatch.setenv("AWS_ENDPOINT_URL_ELASTICACHE", httpserver.url_for("/elasticache"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_KAFKA", httpserver.url_for(""))
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, extra="  elasticache_replication_group: sessions\n"
                                             "  msk_cluster_arn: arn:aws:kafka:us-east-1:123456789012:cluster/events/abc\n"))
    t = AwsTarget(load_environment(env))
    out = t.fail_zone("us-east-1b").detail
    assert out["elasticache_failovers"] == ["0001"] and out["msk_rebooted_brokers"] == ["2"]
    failover = next(p for a, p in sent if a == "TestFailover")
    assert failover["ReplicationGroupId"] == "sessions" and failover["NodeGroupId"] == "0001"
    reboot = next(b for a, b in sent if a.startswith("PUT") and a.endswith("/reboot-broker"))
    assert reboot == {"brokerIds": ["2"]}


def test_scale_dr_waits_for_the_deployments_ready_replicas_and_the_status_reads_node_readiness(moto, tmp_path, kube):
    api, seen = kube
    s = seed()
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, extra="  eks:\n    us-west-2: {cluster: ingest-usw2}\n  dr_scaled_replicas: 3\n"))
    t = AwsTarget(load_environment(env), kube_clients={"us-west-2": api})
    out = t.scale_dr(3)
    reads = [p for m, p, *_ in seen if p.endswith("/deployments/trip-ingest/status")]
    assert len(reads) == 3, "returned at the first read that reported 3 ready replicas"
    assert any("3 ready replica(s) of ingest/trip-ingest (us-west-2)" in w for w in out["waited_for"])
    dr_nodes = [n for n in t.status().nodes if n.region == "us-west-2"]
    assert {n.name for n in dr_nodes} == {"ip-10-0-1-10", "ip-10-0-1-11"}, "EKS nodes, not EC2 instances"
    assert [n.healthy for n in dr_nodes] == [True, False], "Ready, and NotReady"


def test_a_deployment_that_never_becomes_ready_fails_the_scale_naming_it(moto, tmp_path, kube):
    api, seen = kube
    s = seed()
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, wait_timeout_s=0.3,
                                    extra="  eks:\n    us-west-2: {cluster: ingest-usw2}\n  dr_scaled_replicas: 50\n"))
    t = AwsTarget(load_environment(env), kube_clients={"us-west-2": api})
    with pytest.raises(DriverError, match=r"waiting for 50 ready replica\(s\) of ingest/trip-ingest \(us-west-2\)"):
        t.scale_dr(3)


def test_an_eviction_refused_by_a_disruption_budget_is_retried_until_it_is_allowed(httpserver):
    """The API server answers 429 (a PodDisruptionBudget) twice, then accepts, as kubectl drain sees it."""
    answers = iter([429, 429, 201])
    evictions = []

    def handle(request):
        if request.path.endswith("/eviction"):
            code = next(answers)
            evictions.append(code)
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure" if code == 429 else "Success",
                    "reason": "TooManyRequests" if code == 429 else "", "code": code,
                    "message": "Cannot evict pod as it would violate the pod's disruption budget." if code == 429 else ""}
            return Response(json.dumps(body), status=code, content_type="application/json")
        if request.path == "/api/v1/pods":
            return Response(json.dumps(_pods("ip-10-0-1-10")), content_type="application/json")
        return Response(json.dumps({"metadata": {"name": "ip-10-0-1-10"}}), content_type="application/json")

    httpserver.expect_request(__import__("re").compile(".*")).respond_with_handler(handle)
    api = client.ApiClient(client.Configuration(host=httpserver.url_for("").rstrip("/")))
    k = Kube(api, "topology.kubernetes.io/zone", "karpenter.sh/capacity-type", evict_retry_s=0.01, evict_budget_s=5)
    out = k.cordon_and_drain(Actions(), ["ip-10-0-1-10"])
    assert evictions == [429, 429, 201] and out["evicted"] == ["ingest/trip-ingest-10"]


def test_an_eviction_still_refused_when_the_time_is_up_fails_with_the_429(httpserver):
    httpserver.expect_request(__import__("re").compile(".*/eviction")).respond_with_json(
        {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 429}, status=429)
    httpserver.expect_request("/api/v1/pods").respond_with_json(_pods("ip-10-0-1-10"))
    httpserver.expect_request(__import__("re").compile("/api/v1/nodes/.*")).respond_with_json({"metadata": {}})
    api = client.ApiClient(client.Configuration(host=httpserver.url_for("").rstrip("/")))
    k = Kube(api, "topology.kubernetes.io/zone", "karpenter.sh/capacity-type", evict_retry_s=0.05, evict_budget_s=0.2)
    with pytest.raises(DriverError) as info:
        k.cordon_and_drain(Actions(), ["ip-10-0-1-10"])
    assert info.value.code == "429"
