"""Region isolation on AWS against a moto server: deny-all NACLs on exactly the tagged subnets of the region,
the original associations back afterwards, the lockout guard, and the typed status the probes read."""

from __future__ import annotations

import boto3
import pytest

from gameday.config import load_environment
from gameday.errors import ConfigError, DriverError
from gameday.targets.aws.target import AwsTarget
from targets.conftest import AMI, TAG, environment_yaml, seed


def _target(tmp_path, seeded, extra: str = "", **kw) -> AwsTarget:
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(seeded, extra=extra))
    return AwsTarget(load_environment(env), **kw)


def _associations(region: str = "us-east-1") -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name=region)
    return {a["SubnetId"]: acl["NetworkAclId"] for acl in ec2.describe_network_acls()["NetworkAcls"]
            for a in acl["Associations"]}


def _untagged_subnet(seeded) -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return ec2.create_subnet(VpcId=seeded["vpc"], CidrBlock="10.213.9.0/24",
                             AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]


def test_region_isolation_denies_all_traffic_of_every_tagged_subnet_and_restore_brings_the_associations_back(
        moto, tmp_path):
    s = seed()
    untagged = _untagged_subnet(s)
    t = _target(tmp_path, s)
    before, dr_before = _associations(), _associations("us-west-2")
    assert t.status().healthy_nodes(zone="us-east-1b"), "the zone serves before the fault"
    out = t.fail_region("us-east-1").detail
    assert sorted(out["isolated_subnets"]) == sorted(s["subnets"].values())
    during = _associations()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    for sn in s["subnets"].values():
        assert during[sn] != before[sn]
        acl = ec2.describe_network_acls(NetworkAclIds=[during[sn]])["NetworkAcls"][0]
        denies = {(e["Egress"], e.get("CidrBlock") or e.get("Ipv6CidrBlock")) for e in acl["Entries"]
                  if e["RuleAction"] == "deny" and e["Protocol"] == "-1" and e["RuleNumber"] < 100}
        assert denies == {(False, "0.0.0.0/0"), (True, "0.0.0.0/0"), (False, "::/0"), (True, "::/0")}
        assert not [e for e in acl["Entries"] if e["RuleAction"] == "allow"], "nothing is allowed in or out"
    assert during[untagged] == before[untagged], "an untagged subnet is never touched"
    assert _associations("us-west-2") == dr_before, "the DR region is not touched"
    st = t.status()
    assert not st.healthy_nodes(region="us-east-1"), "no node of the isolated region counts as serving"
    assert {d.region: d.role for d in st.dbs}["us-east-1"] == "down"
    t.restore()
    assert _associations() == before
    assert not [acl for acl in ec2.describe_network_acls()["NetworkAcls"]
                if any(tag["Key"] == "gameday:isolation-of" for tag in acl.get("Tags", []))], "the deny-all NACLs are gone"
    assert t.status().healthy_nodes(zone="us-east-1b")


def test_the_lockout_guard_refuses_before_anything_changes(moto, tmp_path):
    s = seed()
    t = _target(tmp_path, s, extra="  runner_addresses: [10.213.1.7]\n")
    before = _associations()
    with pytest.raises(ConfigError, match=r"10\.213\.1\.7 lies in subnet .*10\.213\.1\.0/24.*DR region") as info:
        t.fail_region("us-east-1")
    assert info.value.exit_code == 2
    with pytest.raises(ConfigError, match="refusing to isolate us-east-1"):
        t.preflight("fail_region", {"region": "us-east-1"})
    assert _associations() == before
    assert [c["api"] for c in t.actions.calls] == [], "not one change was attempted"


def test_the_lockout_guard_sees_this_machines_own_interfaces(moto, tmp_path):
    """A tagged subnet holding 127.0.0.1 (loopback is one of this machine's interface addresses)."""
    s = seed()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="127.0.0.0/16")["Vpc"]["VpcId"]
    sn = ec2.create_subnet(VpcId=vpc, CidrBlock="127.0.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ec2.create_tags(Resources=[sn], Tags=[TAG])
    t = _target(tmp_path, s)
    before = _associations()
    with pytest.raises(ConfigError, match=rf"address 127\.0\.0\.1 lies in subnet {sn}"):
        t.fail_region("us-east-1")
    assert _associations() == before


def test_a_plan_of_the_isolation_lists_the_calls_and_changes_nothing(moto, tmp_path):
    s = seed()
    t = _target(tmp_path, s, plan_only=True)
    before = _associations()
    t.fail_region("us-east-1")
    apis = [c["api"] for c in t.actions.calls]
    assert apis.count("ec2:ReplaceNetworkAclAssociation") == 3 and "ec2:CreateNetworkAcl" in apis
    assert not any(c["executed"] for c in t.actions.calls)
    assert _associations() == before


def test_typed_status_nodes_per_zone_capacity_and_dr_readiness(moto, tmp_path):
    s = seed()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ami = AMI
    ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=s["subnets"]["us-east-1c"], InstanceType="t3.micro",
                      InstanceMarketOptions={"MarketType": "spot"},
                      TagSpecifications=[{"ResourceType": "instance", "Tags": [TAG]}])
    t = _target(tmp_path, s)
    st = t.status()
    assert len(st.healthy_nodes(region="us-east-1", zone="us-east-1c", capacity_type="spot")) == 1
    assert len(st.healthy_nodes(region="us-east-1", zone="us-east-1b")) == 2, "the untagged instance is not a node"
    assert len(st.healthy_nodes(region="us-west-2")) == 1, "the DR node group's warm node"
    assert st.writer_zone() == "us-east-1a" and st.dns_region == "us-east-1" and not st.dr_promoted
    out = t.scale_dr(2)
    assert out["count"] == 2
    assert len(t.status().healthy_nodes(region="us-west-2")) == 2, "scale_dr returned once 2 nodes were in service"
    t.fail_zone("us-east-1b")
    assert not t.status().healthy_nodes(zone="us-east-1b")


def test_probes_zone_serving_and_spot_capacity_restored_on_aws(moto, tmp_path):
    from gameday.chaos import probes, session

    s = seed()
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, extra="  spot_nodes_per_zone: 0\n"))
    cfg = {"gameday_env": str(env)}
    try:
        assert probes.zone_serving("us-east-1b", configuration=cfg)
        assert probes.spot_capacity_restored(configuration=cfg)
        session.session_for(cfg).target.fail_zone("us-east-1b")
        assert not probes.zone_serving("us-east-1b", configuration=cfg)
        assert probes.zone_serving("us-east-1a", configuration=cfg)
    finally:
        session.reset()
    env.write_text(environment_yaml(s, extra="  spot_nodes_per_zone: 1\n"))
    try:
        assert not probes.spot_capacity_restored(configuration=cfg), "no spot node runs in any zone"
    finally:
        session.reset()
    env.write_text(environment_yaml(s))
    from chaoslib.exceptions import ActivityFailed
    try:
        with pytest.raises(ActivityFailed, match="aws.spot_nodes_per_zone"):
            probes.spot_capacity_restored(configuration=cfg)
    finally:
        session.reset()


def test_gameday_recover_undoes_a_region_isolation_a_crashed_run_left(moto, tmp_path):
    from gameday import operations
    from gameday.api.recover import recover_journal
    from gameday.journal import Journal

    s = seed()
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s))
    before = _associations()
    j = Journal(tmp_path / "journal.jsonl")
    j.record("drill.start", "runner", {"environment_file": str(env)})
    j.record("fault.intent", "runner", operations.intent("fail_region", {"region": "us-east-1"}))
    AwsTarget(load_environment(env)).fail_region("us-east-1")
    j.close()  # the run dies here
    assert _associations() != before
    result = recover_journal(tmp_path / "journal.jsonl")
    assert [u["action"] for u in result.undone] == ["fail_region"]
    assert _associations() == before


def test_the_fis_region_scenario_is_started_instead_of_the_nacls(moto, tmp_path, httpserver, monkeypatch):
    """moto does not model FIS experiments: a stub answers, and the test checks the request gameday sends."""
    import json

    from werkzeug import Response

    s = seed()
    sent = []

    def start(request):
        sent.append(request.get_json())
        return Response(json.dumps({"experiment": {"id": "EXPR", "experimentTemplateId": "EXTREGION",
                                                   "state": {"status": "initiating"}}}), content_type="application/json")

    httpserver.expect_request("/experiments", method="POST").respond_with_handler(start)
    monkeypatch.setenv("AWS_ENDPOINT_URL_FIS", httpserver.url_for(""))
    t = _target(tmp_path, s, extra="  fis_region_template_id: EXTREGION\n")
    before = _associations()
    assert t.fail_region("us-east-1").detail["fis_experiment"] == "EXPR"
    assert [c["api"] for c in t.actions.calls] == ["fis:StartExperiment"]
    assert sent[0]["experimentTemplateId"] == "EXTREGION"
    assert _associations() == before, "FIS does the isolation; gameday touches no NACL"


def test_the_status_is_reused_for_a_moment_and_read_again_after_a_change(moto, tmp_path):
    s = seed()
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s).replace("waiter_delay_s: 0.05", "waiter_delay_s: 1"))
    t = AwsTarget(load_environment(env))
    sent: list[str] = []
    t.session.session.events.register("before-call", lambda model, **kw: sent.append(model.name))
    assert t.status().dns_region == "us-east-1"
    n = len(sent)
    assert n >= 8 and t.status().dns_region == "us-east-1" and len(sent) == n, "the second status made no call"
    t.switch_dns("us-west-2")
    assert t.status().dns_region == "us-west-2", "a change of the driver's own is seen at once"


def test_the_lockout_guard_compares_ipv6_too_and_ignores_other_families():
    import ipaddress

    from gameday.targets.aws.lockout import check_lockout

    subnet = {"SubnetId": "subnet-6", "CidrBlock": "10.213.5.0/24",
              "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f18:abcd:1200::/64"}]}
    check_lockout([subnet], [ipaddress.ip_address("10.213.6.1"), ipaddress.ip_address("2600:1f18:abcd:1300::9")], "x")
    with pytest.raises(ConfigError, match=r"2600:1f18:abcd:1200::9 lies in subnet subnet-6 \(2600:1f18:abcd:1200::/64\)"):
        check_lockout([subnet], [ipaddress.ip_address("2600:1f18:abcd:1200::9")], "to isolate us-east-1")


def test_a_region_whose_api_does_not_answer_is_observed_as_down(moto, tmp_path):
    """A real regional event can take the region's API down too: its nodes are gone, its database down, and
    the DR region is still observed (what dr_nodes_healthy waits on); other errors are still raised."""
    from botocore.config import Config

    s = seed()
    t = _target(tmp_path, s)
    dead = Config(retries={"max_attempts": 1}, connect_timeout=1)
    for service in ("ec2", "rds", "autoscaling"):  # the primary region's endpoints: nothing listens there
        t.session._clients[(service, "us-east-1")] = t.session.session.client(
            service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9", config=dead)
    st = t.status()
    assert not [n for n in st.nodes if n.region == "us-east-1"]
    assert {d.region: d.role for d in st.dbs} == {"us-east-1": "down", "us-west-2": "standby"}
    assert len(st.healthy_nodes(region="us-west-2")) == 1 and st.writer_region is None


def test_the_isolation_is_undone_even_when_another_part_of_the_restore_fails(moto, tmp_path, monkeypatch):
    """A zone's restore that raises (a throttle, the EKS API still cut off) must not leave the region isolated:
    the NACL associations come back first, the failure is named afterwards, and `recover` can run again."""
    s = seed()
    t = _target(tmp_path, s)
    before = _associations()
    t.fail_region("us-east-1")

    def broken(zone: str) -> dict:
        raise DriverError(f"ListNodes in {zone}: the API does not answer", code="EndpointConnectionError")
    monkeypatch.setattr(t, "restore_zone", broken)
    with pytest.raises(DriverError, match="restore is incomplete.*us-east-1a: ListNodes"):
        t.restore()
    assert _associations() == before, "the region was not left isolated"


def _big_vpc(n: int) -> list[str]:
    ec2 = boto3.client("ec2", region_name="us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone="us-west-2a")["Subnet"]["SubnetId"]
               for i in range(n)]
    ec2.create_tags(Resources=subnets, Tags=[TAG])
    return subnets


def _gameday_acls(region: str) -> list[str]:
    return [acl["NetworkAclId"] for acl in boto3.client("ec2", region_name=region).describe_network_acls()["NetworkAcls"]
            if any(tag["Key"] == "gameday:isolation-of" for tag in acl.get("Tags", []))]


def _record(region: str) -> list[str]:
    return [p["Name"] for p in boto3.client("ssm", region_name=region).describe_parameters()["Parameters"]]


def test_more_subnets_than_a_nacl_has_tags_are_cut_off_and_put_back_from_one_document(moto, tmp_path):
    """The original associations are one SSM document, not one NACL tag per subnet (50 tags per resource): 52
    tagged subnets in one VPC are isolated and put back, by another process (recover), and the document is gone."""
    subnets = _big_vpc(52)
    zone = boto3.client("route53").create_hosted_zone(Name="example.com", CallerReference="r")["HostedZone"]["Id"]
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml({"zone_id": zone.split("/")[-1]}))
    before = _associations("us-west-2")
    out = AwsTarget(load_environment(env)).fail_region("us-west-2").detail
    assert sorted(out["isolated_subnets"]) == sorted(subnets)
    assert out["original_associations_in"] == "ssm:/gameday/staging/isolation/us-west-2"
    (acl,) = _gameday_acls("us-west-2")
    assert {s for s, a in _associations("us-west-2").items() if a == acl} == set(subnets)
    tags = boto3.client("ec2", region_name="us-west-2").describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]["Tags"]
    assert len(tags) == 2, "the NACL carries the tag filter and gameday's mark, nothing per subnet"
    assert _record("us-west-2") == ["/gameday/staging/isolation/us-west-2"]
    AwsTarget(load_environment(env)).restore()
    assert _associations("us-west-2") == before and not _gameday_acls("us-west-2") and not _record("us-west-2")


def test_a_call_that_fails_half_way_leaves_no_subnet_cut_off_and_no_orphan_nacl(moto, tmp_path, monkeypatch):
    """The third ReplaceNetworkAclAssociation is refused (an AWS error through botocore): the two subnets already
    cut off are put back, the deny-all NACL and the record are deleted, and the error is raised naming the call."""
    from botocore.exceptions import ClientError

    s = seed()
    t = _target(tmp_path, s)
    before = _associations()
    calls = []

    def refuse_third(**kw):
        calls.append(1)
        if len(calls) == 3:
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "not allowed"}},
                              "ReplaceNetworkAclAssociation")
    t.session.client("ec2", "us-east-1").meta.events.register(
        "before-call.ec2.ReplaceNetworkAclAssociation", refuse_third)
    with pytest.raises(DriverError, match="ec2:ReplaceNetworkAclAssociation: not allowed") as info:
        t.fail_region("us-east-1")
    assert info.value.code == "UnauthorizedOperation"
    assert _associations() == before and not _gameday_acls("us-east-1") and not _record("us-east-1")
    assert [c["api"] for c in t.actions.calls].count("ec2:ReplaceNetworkAclAssociation") == 3 + 2  # 2 put back
