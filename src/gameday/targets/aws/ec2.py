"""EC2: the zone's tagged instances (stop / start), spot terminations, and the NACL blackhole of a zone
or of a whole region.

State needed to undo a change is kept on the resources themselves as ``gameday:*`` tags (a stopped instance,
a gameday NACL) or, for a subnet's original NACL, in one document (``gameday.targets.aws.record``), so an
inverse (or ``gameday recover``) needs nothing but the environment.
"""

from __future__ import annotations

from typing import Any

from gameday.errors import ConfigError, DriverError
from gameday.targets.aws import record
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["tagged_instances", "instances", "stop_zone_instances", "start_zone_instances", "zone_instances", "terminate_spot",
           "blackhole_zone",
           "unblackhole_zone", "region_subnets", "zone_subnets", "isolate_region", "unisolate_region", "blackholed_subnets",
           "region_isolated",
           "record_name", "MARK_STOPPED", "MARK_NACL", "MARK_REGION"]

MARK_STOPPED = "gameday:stopped-by"
MARK_NACL = "gameday:blackhole-of"
MARK_REGION = "gameday:isolation-of"


def tagged_instances(s: AwsSession, *, zone: str | None = None, states: tuple[str, ...] = ("running",),
                     extra: list[dict[str, Any]] | None = None, region: str | None = None) -> list[dict[str, Any]]:
    tf = s.settings.tag_filter
    filters = [{"Name": f"tag:{tf.key}", "Values": [tf.value]}, {"Name": "instance-state-name", "Values": list(states)}]
    filters += extra or []
    out: list[dict[str, Any]] = []
    for page in s.client("ec2", region).get_paginator("describe_instances").paginate(Filters=filters):
        for r in page["Reservations"]:  # chaosaws count_instances counts reservations, not instances: not used
            out.extend(i for i in r["Instances"] if zone is None or i["Placement"]["AvailabilityZone"] == zone)
    return out


def instances(s: AwsSession, region: str, ids: list[str]) -> list[dict[str, Any]]:
    """The instances ``ids`` of ``region`` (none asked: none returned, not every instance)."""
    if not ids:
        return []
    pages = s.client("ec2", region).get_paginator("describe_instances").paginate(InstanceIds=ids)
    return [i for page in pages for r in page["Reservations"] for i in r["Instances"]]


def zone_instances(s: AwsSession, zone: str) -> list[dict[str, Any]]:
    """The running tagged instances of ``zone``; none is an error (a fault must touch something)."""
    found = tagged_instances(s, zone=zone)
    if not found:
        raise ConfigError(f"no running instance carries {s.settings.tag_filter.key}={s.settings.tag_filter.value} "
                          f"in {zone}: the zone outage would touch nothing", field="aws.tag_filter")
    return found


def stop_zone_instances(s: AwsSession, acts: Actions, zone: str, run_id: str) -> list[str]:
    """Stop every tagged on-demand instance of ``zone`` (spot ones are terminated: stopping them would)."""
    from chaosaws.ec2.actions import stop_instances

    ids = [i["InstanceId"] for i in zone_instances(s, zone) if i.get("InstanceLifecycle") != "spot"]
    if ids:
        acts.do("ec2:CreateTags", ids, lambda: s.client("ec2").create_tags(
            Resources=ids, Tags=[{"Key": MARK_STOPPED, "Value": run_id}]), tag=MARK_STOPPED)
        # chaosaws with explicit ids only: its az-only mode would stop untagged instances too
        acts.do("ec2:StopInstances", ids, lambda: stop_instances(
            instance_ids=ids, force=True, configuration=s.chaosaws_configuration(s.settings.primary_region)))
    return ids


def start_zone_instances(s: AwsSession, acts: Actions, zone: str) -> list[str]:
    from chaosaws.ec2.actions import start_instances

    marked = tagged_instances(s, zone=zone, states=("stopped", "stopping"),
                              extra=[{"Name": "tag-key", "Values": [MARK_STOPPED]}])
    ids = [i["InstanceId"] for i in marked]
    if ids:
        acts.do("ec2:StartInstances", ids, lambda: start_instances(
            instance_ids=ids, configuration=s.chaosaws_configuration(s.settings.primary_region)))
        acts.do("ec2:DeleteTags", ids, lambda: s.client("ec2").delete_tags(Resources=ids, Tags=[{"Key": MARK_STOPPED}]))
    return ids


def terminate_spot(s: AwsSession, acts: Actions, count: int, zone: str | None) -> list[str]:
    """Terminate tagged spot instances (the replacement is the ASG's / Karpenter's job)."""
    spots = [i for i in tagged_instances(s, zone=zone) if i.get("InstanceLifecycle") == "spot"][:count]
    if not spots:
        raise ConfigError(f"no running tagged spot instance{' in ' + zone if zone else ''}", field="aws.tag_filter")
    ids = [i["InstanceId"] for i in spots]
    # boto3, not chaosaws: chaosaws's stop_instances terminates spot instances as a side effect; say it plainly
    acts.do("ec2:TerminateInstances", ids, lambda: s.client("ec2").terminate_instances(InstanceIds=ids))
    return ids


def zone_subnets(s: AwsSession, zone: str) -> list[dict[str, Any]]:
    tf = s.settings.tag_filter
    return s.client("ec2").describe_subnets(Filters=[{"Name": "availability-zone", "Values": [zone]},
                                                     {"Name": f"tag:{tf.key}", "Values": [tf.value]}])["Subnets"]


def region_subnets(s: AwsSession, region: str) -> list[dict[str, Any]]:
    """Every subnet of ``region`` that carries the tag filter (what a region isolation cuts off)."""
    tf = s.settings.tag_filter
    out: list[dict[str, Any]] = []
    for page in s.client("ec2", region).get_paginator("describe_subnets").paginate(
            Filters=[{"Name": f"tag:{tf.key}", "Values": [tf.value]}]):
        out.extend(page["Subnets"])
    return out


def _deny_all(ec2: Any, acts: Actions, acl_id: str) -> None:
    """Explicit deny-all entries, ingress and egress, IPv4 and IPv6 (a new NACL denies by its default rule
    already; explicit entries say so to whoever looks at it in the console)."""
    for egress in (False, True):
        for cidr in ({"CidrBlock": "0.0.0.0/0"}, {"Ipv6CidrBlock": "::/0"}):
            rule = 1 if "CidrBlock" in cidr else 2
            acts.do("ec2:CreateNetworkAclEntry", acl_id, lambda egress=egress, cidr=cidr, rule=rule: ec2
                    .create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=rule, Protocol="-1", RuleAction="deny",
                                              Egress=egress, **cidr), egress=egress, **cidr)


def _doc(s: AwsSession, mark: str, value: str) -> str:
    return record.name(s, "isolation" if mark == MARK_REGION else "blackhole", value)


def _associations(ec2: Any, ids: list[str]) -> dict[str, tuple[str, str]]:
    """subnet -> (its association's id, its NACL) for ``ids``."""
    out = {}
    for acl in ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": ids}])["NetworkAcls"]:
        for a in acl["Associations"]:
            if a["SubnetId"] in ids:
                out[a["SubnetId"]] = (a["NetworkAclAssociationId"], acl["NetworkAclId"])
    return out


def _blackhole(s: AwsSession, acts: Actions, region: str, subnets: list[dict[str, Any]], mark: str,
               value: str) -> list[str]:
    """Associate ``subnets`` with a deny-all NACL per VPC (no chaosaws action does it). Each subnet's original
    association is kept in one document (``gameday.targets.aws.record``) before anything changes, so the inverse
    and ``gameday recover`` restore it; a call that fails half-way undoes what was done, then is raised."""
    ec2 = s.client("ec2", region)
    ids = [x["SubnetId"] for x in subnets]
    assoc = _associations(ec2, ids)
    record.put(s, acts, region, _doc(s, mark, value), {sid: acl for sid, (_, acl) in assoc.items()})
    tf = s.settings.tag_filter  # tagged at creation: the IAM policy allows changes to tagged NACLs only
    tags = [{"Key": tf.key, "Value": tf.value}, {"Key": mark, "Value": value}]
    try:
        for vpc in sorted({x["VpcId"] for x in subnets}):
            created = acts.do("ec2:CreateNetworkAcl", vpc, lambda vpc=vpc: ec2.create_network_acl(
                VpcId=vpc, TagSpecifications=[{"ResourceType": "network-acl", "Tags": tags}]), region=region)
            acl_id = created["NetworkAcl"]["NetworkAclId"] if created else f"(new deny-all NACL of {vpc})"
            if not acts.plan_only:
                _deny_all(ec2, acts, acl_id)
            for sid in (x["SubnetId"] for x in subnets if x["VpcId"] == vpc and x["SubnetId"] in assoc):
                acts.do("ec2:ReplaceNetworkAclAssociation", sid, lambda sid=sid, acl_id=acl_id: ec2
                        .replace_network_acl_association(AssociationId=assoc[sid][0], NetworkAclId=acl_id))
    except Exception:  # no orphan NACL, no subnet half cut off: what was done is undone, then it is raised
        _unblackhole(s, acts, region, mark, value)
        raise
    return ids


def _legacy(acl: dict[str, Any]) -> dict[str, str]:
    """The record as runs before the document kept it: one ``gameday:orig:<subnet>`` tag per subnet."""
    return {t["Key"][len("gameday:orig:"):]: t["Value"] for t in acl.get("Tags", []) if t["Key"].startswith("gameday:orig:")}


def _unblackhole(s: AwsSession, acts: Actions, region: str, mark: str, value: str) -> list[str]:
    """Every subnet a gameday NACL of ``mark``=``value`` cuts off back on its recorded NACL, the NACLs deleted,
    then the record. A subnet without a record (it cannot happen unless the document was deleted by hand) is
    an error naming it: gameday does not guess a team's NACL."""
    ec2 = s.client("ec2", region)
    doc = _doc(s, mark, value)
    original = record.get(s, region, doc)
    restored = []
    for acl in ec2.describe_network_acls(Filters=[{"Name": f"tag:{mark}", "Values": [value]}])["NetworkAcls"]:
        back = {**_legacy(acl), **(original or {})}
        for a in acl["Associations"]:
            if a["SubnetId"] not in back:
                raise DriverError(f"no record of the original NACL of {a['SubnetId']} (cut off by "
                                  f"{acl['NetworkAclId']}; {doc} is gone): associate it back by hand")
            acts.do("ec2:ReplaceNetworkAclAssociation", a["SubnetId"],
                    lambda a=a, back=back: ec2.replace_network_acl_association(
                        AssociationId=a["NetworkAclAssociationId"], NetworkAclId=back[a["SubnetId"]]))
            restored.append(a["SubnetId"])
        acts.do("ec2:DeleteNetworkAcl", acl["NetworkAclId"],
                lambda acl=acl: ec2.delete_network_acl(NetworkAclId=acl["NetworkAclId"]))
    if original is not None:
        record.delete(s, acts, region, doc)
    return restored


def blackhole_zone(s: AwsSession, acts: Actions, zone: str) -> list[str]:
    """Cut the zone's tagged subnets off with a deny-all NACL."""
    subnets = zone_subnets(s, zone)
    if not subnets:
        raise ConfigError(f"no tagged subnet in {zone} to blackhole", field="aws.tag_filter")
    return _blackhole(s, acts, s.settings.primary_region, subnets, MARK_NACL, zone)


def unblackhole_zone(s: AwsSession, acts: Actions, zone: str) -> list[str]:
    return _unblackhole(s, acts, s.settings.primary_region, MARK_NACL, zone)


def isolate_region(s: AwsSession, acts: Actions, region: str, subnets: list[dict[str, Any]]) -> list[str]:
    """Cut every tagged subnet of ``region`` off (ingress and egress), as the zone blackhole does for a zone."""
    return _blackhole(s, acts, region, subnets, MARK_REGION, region)


def record_name(s: AwsSession, region: str) -> str:
    """The document (SSM parameter) a region isolation keeps the original associations in."""
    return _doc(s, MARK_REGION, region)


def unisolate_region(s: AwsSession, acts: Actions, region: str) -> list[str]:
    return _unblackhole(s, acts, region, MARK_REGION, region)


def blackholed_subnets(s: AwsSession, region: str) -> set[str]:
    """Subnets of ``region`` that a gameday NACL cuts off now (their nodes cannot serve)."""
    acls = [acl for page in s.client("ec2", region).get_paginator("describe_network_acls").paginate()
            for acl in page["NetworkAcls"] if any(t["Key"] in (MARK_NACL, MARK_REGION) for t in acl.get("Tags", []))]
    return {a["SubnetId"] for acl in acls for a in acl["Associations"]}


def region_isolated(s: AwsSession, region: str) -> bool:
    """Whether gameday's region isolation holds ``region`` now."""
    return bool(s.client("ec2", region).describe_network_acls(
        Filters=[{"Name": f"tag:{MARK_REGION}", "Values": [region]}])["NetworkAcls"])
