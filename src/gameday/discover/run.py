"""The discovery, service by service, over one session built the one way gameday builds them
(:func:`gameday.targets.aws.session.open_session`). A service that cannot be read (no permission, not offered
in the region) becomes a TODO naming the error; discovery goes on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gameday.discover.compute import discover_dr_node_group, discover_eks, discover_zones, note_primary_node_groups
from gameday.discover.databases import discover_database
from gameday.discover.dns import discover_route53
from gameday.discover.facts import AwsInitOptions, Fact, Scope, found, todo
from gameday.discover.services import discover_alarms, discover_cache, discover_msk
from gameday.errors import ConfigError, DriverError
from gameday.targets.aws.session import boundary, open_session, regional_client

__all__ = ["DISCOVERY_ACTIONS", "discover"]

# Every AWS API discovery calls (IAM action names): all read-only. docs/init.md lists them; a test checks that
# discovery calls nothing else.
DISCOVERY_ACTIONS = (
    "sts:GetCallerIdentity", "ec2:DescribeSubnets", "rds:DescribeDBInstances", "rds:DescribeDBClusters",
    "rds:DescribeGlobalClusters", "elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource",
    "kafka:ListClustersV2", "eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup",
    "autoscaling:DescribeAutoScalingGroups", "route53:ListHostedZones", "route53:ListTagsForResources",
    "route53:ListResourceRecordSets", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
)


def _clients(opts: AwsInitOptions) -> Callable[[str, str], Any]:
    session = open_session(opts.profile, opts.role_arn, opts.primary_region, profile_field="--profile")
    made: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        if (service, region) not in made:
            made[(service, region)] = regional_client(session, service, region)
        return made[(service, region)]

    return client


def _attempt(what: str, fn: Callable[[], Any], undecided: Callable[[str], Any]) -> Any:
    """``fn()``; an AWS error is the TODO ``undecided(reason)`` instead (discovery goes on)."""
    try:
        with boundary(what):
            return fn()
    except DriverError as exc:
        return undecided(f"could not read {what}: {exc}")


def discover(opts: AwsInitOptions) -> dict[str, Any]:
    """The ``aws`` section as a tree of :class:`Fact` (a dict per section), plus ``notes``: what discovery saw
    and did not use."""
    clients = _clients(opts)
    scope = Scope(opts.tag_key, opts.tag_value, opts.primary_region, opts.dr_region, clients)
    with boundary("sts:GetCallerIdentity"):  # no account, no file: the credentials do not work
        account = clients("sts", opts.primary_region).get_caller_identity()["Account"]
    eks = _attempt("EKS", lambda: discover_eks(scope), lambda why: {opts.primary_region: {"cluster": todo(why)}})
    _attempt("the primary cluster's node groups", lambda: note_primary_node_groups(scope, eks), lambda why: None)
    route53, url = _attempt("Route 53", lambda: discover_route53(scope), lambda why: ({"name": todo(why)}, todo(why)))
    tree: dict[str, Any] = {
        "account_id": found(account, "sts:GetCallerIdentity (the credentials used)"),
        "primary_region": found(opts.primary_region, "--regions"),
        "dr_region": found(opts.dr_region, "--regions"),
        "zones": _attempt("EC2 subnets", lambda: discover_zones(scope), todo),
        "profile": found(opts.profile, "--profile") if opts.profile else Fact(None),
        "role_arn": found(opts.role_arn, "--role-arn") if opts.role_arn else Fact(None),
        "tag_filter": found({"key": opts.tag_key, "value": opts.tag_value}, "--tag"),
        "eks": eks,
        "rds": _attempt("RDS", lambda: discover_database(scope), lambda why: {"instance_id": todo(why)}),
        "elasticache_replication_group": _attempt("ElastiCache", lambda: discover_cache(scope), todo),
        "msk_cluster_arn": _attempt("MSK", lambda: discover_msk(scope), todo),
        "route53": route53,
        "public_url": url,
        "stop_condition_alarms": _attempt("CloudWatch alarms", lambda: discover_alarms(scope), todo),
        "dr_node_group_asg": _attempt("the DR node group", lambda: discover_dr_node_group(scope, eks), todo),
        "dr_scaled_replicas": todo("how many nodes scale_dr grows the DR node group to (gameday's default: 3)"),
    }
    if not any(_decided(tree[k]) for k in _TAGGED):  # a misspelt tag: say so, rather than a file of TODOs
        raise ConfigError(f"no resource in {opts.primary_region} or {opts.dr_region} carries the tag "
                          f"{opts.tag_key}={opts.tag_value} (EKS, RDS, ElastiCache, MSK, subnets, Route 53 and alarms "
                          "were read): check the tag's spelling and the regions", field="--tag")
    return {"aws": tree, "notes": list(scope.notes)}


# what discovery finds by the tag (the rest comes from the command line or the credentials)
_TAGGED = ("zones", "eks", "rds", "elasticache_replication_group", "msk_cluster_arn", "route53", "public_url",
           "stop_condition_alarms", "dr_node_group_asg")


def _decided(node: Any) -> bool:
    if isinstance(node, Fact):
        return node.decided and node.value not in ([], {}, "")  # an empty list found is nothing found
    return isinstance(node, dict) and any(_decided(v) for v in node.values())
