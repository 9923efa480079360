"""What `gameday init --aws` writes for EKS, from a stub client (no AWS, no process): scale_dr scales the DR
region's deployment, so the DR cluster's namespace and deployment are TODOs too, never gameday's defaults
written as if found; and the count printed is the count of TODOs the file holds (the service: section's too)."""

from __future__ import annotations

from types import SimpleNamespace

from gameday.discover.compute import discover_eks
from gameday.discover.facts import Scope
from gameday.discover.render import count_todos, render_environment

P, DR = "us-east-1", "us-west-2"
TAG = {"gameday:target": "staging"}


class _Eks:
    def __init__(self, region: str) -> None:
        self.name = f"ingest-{region}"
        self.arn = f"arn:aws:eks:{region}:123456789012:cluster/{self.name}"

    def get_paginator(self, _op: str):
        return SimpleNamespace(paginate=lambda **_: [{"clusters": [self.name]}])

    def describe_cluster(self, name: str):
        return {"cluster": {"name": name, "arn": self.arn, "tags": TAG}}


def _scope() -> Scope:
    return Scope("gameday:target", "staging", P, DR, clients=lambda service, region: _Eks(region))


def test_both_regions_namespace_and_deployment_are_todos_and_the_dr_one_says_scale_dr_uses_it():
    eks = discover_eks(_scope())
    for region in (P, DR):
        assert eks[region]["cluster"].value == f"ingest-{region}"
        for key in ("ingest_namespace", "ingest_deployment"):
            assert eks[region][key].value is None and eks[region][key].todo, (region, key)
    assert "scale_dr" in eks[DR]["ingest_namespace"].todo and "scale_dr" not in eks[P]["ingest_namespace"].todo


def test_the_todo_count_printed_is_the_count_of_todos_in_the_written_file():
    aws = {"eks": discover_eks(_scope())}
    text = render_environment("aws-staging", {"aws": aws, "notes": []}, written_by="test")
    in_file = sum("TODO" in line for line in text.splitlines()[4:])  # after the header that explains TODO
    assert count_todos(aws) == in_file == 7  # 2 kube contexts, 2 x (namespace, deployment), service:
