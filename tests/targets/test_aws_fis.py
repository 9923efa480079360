"""FIS experiments gameday started are stopped by ``restore`` and by ``recover`` from a journal (another
process, which knows only the journal). moto does not model FIS experiments: a recording stub keeps them
(AWS_ENDPOINT_URL_FIS) and the test checks the requests gameday sends."""

from __future__ import annotations

import json

import boto3
import pytest
from werkzeug import Response

from gameday import operations
from gameday.config import load_environment
from gameday.drill.recover import recover
from gameday.journal import Journal
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml, seed


class FisStub:
    """StartExperiment, ListExperiments, StopExperiment, GetExperiment over FIS's REST-JSON protocol."""

    def __init__(self) -> None:
        self.experiments: dict[str, dict] = {}
        self.sent: list[tuple[str, str]] = []

    def answer(self, request):
        self.sent.append((request.method, request.path))
        parts = request.path.strip("/").split("/")
        if request.method == "POST":
            body = request.get_json()
            i = f"EXP{sum(k.startswith('EXP') for k in self.experiments) + 1}"
            self.experiments[i] = {"id": i, "experimentTemplateId": body["experimentTemplateId"],
                                   "tags": body.get("tags", {}), "state": {"status": "running"}}
        elif len(parts) == 1:
            t = request.args.get("experimentTemplateId")
            return self._json({"experiments": [e for e in self.experiments.values() if e["experimentTemplateId"] == t]})
        else:
            i = parts[1]
            if request.method == "DELETE":
                self.experiments[i]["state"] = {"status": "stopped"}
        return self._json({"experiment": self.experiments[i]})

    @staticmethod
    def _json(body):
        return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def fis(httpserver, monkeypatch):
    stub = FisStub()
    httpserver.expect_request(__import__("re").compile("/experiments.*")).respond_with_handler(stub.answer)
    monkeypatch.setenv("AWS_ENDPOINT_URL_FIS", httpserver.url_for("").rstrip("/"))
    stub.experiments["TEAM1"] = {"id": "TEAM1", "experimentTemplateId": "EXT1", "tags": {},
                                 "state": {"status": "running"}}  # a team's own, started outside gameday
    return stub


def _env(tmp_path, s) -> str:
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, extra="  fis_az_template_id: EXT1\n"))
    return str(env)


def test_restore_stops_the_experiment_gameday_started_and_only_that(moto, tmp_path, fis):
    s = {"zone_id": boto3.client("route53").create_hosted_zone(Name="example.com", CallerReference="f")
         ["HostedZone"]["Id"].split("/")[-1]}
    t = AwsTarget(load_environment(_env(tmp_path, s)))
    from gameday.targets.aws import services  # the start fail_zone makes (it needs tagged instances: see below)

    assert services.start_fis(t.session, t.actions, "EXT1", t.run_id) == "EXP1"
    out = t.restore()
    assert out["stopped FIS experiments"] == ["EXP1"]
    assert fis.experiments["EXP1"]["state"]["status"] == "stopped"
    assert fis.experiments["TEAM1"]["state"]["status"] == "running", "an experiment gameday did not start"
    assert ("DELETE", "/experiments/EXP1") in fis.sent and ("DELETE", "/experiments/TEAM1") not in fis.sent


def test_recover_from_a_journal_stops_the_zone_experiment(moto, tmp_path, fis):
    s = seed()
    env = _env(tmp_path, s)
    journal = tmp_path / "drill.jsonl"
    j = Journal(journal)
    j.record("drill.start", "runner", {"environment_file": env})
    j.record("fault.intent", "runner", operations.intent("fail_zone", {"zone": "us-east-1b"}))
    AwsTarget(load_environment(env)).fail_zone("us-east-1b")  # the drill's process, killed after this
    j.close()
    assert fis.experiments["EXP1"]["state"]["status"] == "running"
    undone = recover(journal, AwsTarget(load_environment(env)))
    assert [u["inverse"] for u in undone] == ["restore_zone"]
    assert fis.experiments["EXP1"]["state"]["status"] == "stopped"
    assert fis.experiments["TEAM1"]["state"]["status"] == "running"
