"""Aurora Global Database as runbook actions. moto (5.2) models global clusters but neither
``failover_global_cluster`` nor ``switchover_global_cluster``: a recording stub answers the RDS API (its
state moves to the new primary only after a few polls, as Aurora's does), and the test checks the requests
gameday sends and that every action waited for the new primary. EC2, STS and Route 53 are moto's."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from werkzeug import Response

from gameday.config import load_environment
from gameday.errors import DriverError
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml, seed

ACCT = "123456789012"
ARN = {"us-east-1": f"arn:aws:rds:us-east-1:{ACCT}:cluster:ingest-aurora",
       "us-west-2": f"arn:aws:rds:us-west-2:{ACCT}:cluster:ingest-aurora-dr"}
NS = 'xmlns="http://rds.amazonaws.com/doc/2014-10-31/"'


class GlobalStub:
    """The global cluster as RDS would report it; ``polls`` describes pass before a failover completes."""

    def __init__(self, polls: int = 3) -> None:
        self.writer, self.status, self.pending, self.polls_left, self.polls = ARN["us-east-1"], "available", None, 0, polls
        self.sent: list[tuple[str, dict[str, str]]] = []

    def _global(self) -> str:
        if self.pending and self.polls_left == 0:
            self.writer, self.status, self.pending = self.pending, "available", None
        elif self.pending:
            self.polls_left -= 1
        members = "".join(f"<GlobalClusterMember><DBClusterArn>{arn}</DBClusterArn><IsWriter>{str(arn == self.writer).lower()}"
                          f"</IsWriter></GlobalClusterMember>" for arn in ARN.values())
        return (f"<GlobalClusterIdentifier>ingest-global</GlobalClusterIdentifier><Status>{self.status}</Status>"
                f"<GlobalClusterMembers>{members}</GlobalClusterMembers>")

    def handle(self, request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        action = form.pop("Action")
        region = re.search(r"Credential=[^/]+/\d+/([a-z0-9-]+)/rds/", request.headers["Authorization"]).group(1)
        self.sent.append((action, {**form, "region": region}))
        if action == "DescribeDBClusters":
            ident = form["DBClusterIdentifier"]
            body = (f"<DBClusters><DBCluster><DBClusterIdentifier>{ident}</DBClusterIdentifier><DBClusterArn>"
                    f"{ARN[region]}</DBClusterArn><Endpoint>{ident}.cluster.example</Endpoint><Port>5432</Port>"
                    "<DBClusterMembers/></DBCluster></DBClusters>")
        elif action == "DescribeGlobalClusters":
            body = f"<GlobalClusters><GlobalClusterMember>{self._global()}</GlobalClusterMember></GlobalClusters>"
        elif action in ("FailoverGlobalCluster", "SwitchoverGlobalCluster"):
            self.pending, self.polls_left = form["TargetDbClusterIdentifier"], self.polls
            self.status = "failing-over" if action.startswith("Failover") else "switching-over"
            body = "<GlobalCluster><GlobalClusterIdentifier>ingest-global</GlobalClusterIdentifier></GlobalCluster>"
        else:
            return Response(f"<ErrorResponse><Error><Code>InvalidAction</Code><Message>{action}</Message></Error>"
                            "</ErrorResponse>", status=400, content_type="text/xml")
        xml = f"<{action}Response {NS}><{action}Result>{body}</{action}Result></{action}Response>"
        return Response(xml, content_type="text/xml")


@pytest.fixture
def aurora(moto, tmp_path, httpserver, monkeypatch):
    s = seed()
    stub = GlobalStub()
    httpserver.expect_request("/").respond_with_handler(stub.handle)
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", httpserver.url_for("/"))
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, wait_timeout_s=2).replace(
        "rds: {instance_id: ingest-db, dr_replica_id: ingest-db-dr}",
        "rds: {cluster_id: ingest-aurora, dr_cluster_id: ingest-aurora-dr, global_cluster_id: ingest-global}"))
    return AwsTarget(load_environment(env)), stub


def _describes_after(stub: GlobalStub, action: str) -> int:
    i = next(n for n, (a, _) in enumerate(stub.sent) if a == action)
    return sum(1 for a, _ in stub.sent[i:] if a == "DescribeGlobalClusters")


def test_promote_is_the_unplanned_global_failover_and_waits_for_the_new_primary(aurora):
    t, stub = aurora
    assert {d.region: d.role for d in t.status().dbs} == {"us-east-1": "primary", "us-west-2": "standby"}
    out = t.promote_dr_db()
    (_, req), = [(a, p) for a, p in stub.sent if a == "FailoverGlobalCluster"]
    assert req["GlobalClusterIdentifier"] == "ingest-global" and req["TargetDbClusterIdentifier"] == ARN["us-west-2"]
    assert req["AllowDataLoss"] == "true", "an unplanned failover: the lost region's unreplicated writes are given up"
    assert req["region"] == "us-west-2", "sent to the DR region's endpoint: the primary region's may be down"
    assert not [a for a, p in stub.sent if p["region"] == "us-east-1"], "nothing asked of the lost region"
    assert _describes_after(stub, "FailoverGlobalCluster") >= 4, "returned only once the new primary was reported"
    assert "the global cluster ingest-global's primary to be the us-west-2 cluster" in out["waited_for"][0]
    st = t.status()
    assert st.writer_region == "us-west-2" and st.dr_promoted
    assert t.rebuild_primary_region()["secondary"] == ARN["us-east-1"], "the old primary is a secondary again"


def test_return_is_the_planned_switchover_back_and_waits_for_it(aurora):
    t, stub = aurora
    t.promote_dr_db()
    t.return_primary_db()
    (_, req), = [(a, p) for a, p in stub.sent if a == "SwitchoverGlobalCluster"]
    assert req["TargetDbClusterIdentifier"] == ARN["us-east-1"] and "AllowDataLoss" not in req
    assert _describes_after(stub, "SwitchoverGlobalCluster") >= 4
    assert t.status().writer_region == "us-east-1"
    assert t.rebuild_dr_db()["secondary"] == ARN["us-west-2"]


def test_a_global_failover_that_never_completes_fails_naming_the_wait(aurora):
    t, stub = aurora
    stub.polls = 10_000
    with pytest.raises(DriverError, match=r"timed out after \d+ s waiting for the global cluster ingest-global's "
                                          r"primary to be the us-west-2 cluster \(last seen: status failing-over") as info:
        t.promote_dr_db()
    assert info.value.code == "WaitTimeout"
