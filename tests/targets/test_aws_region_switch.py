"""ARC Region switch as a runbook action: the team's plan executed (StartPlanExecution) and waited for
(GetPlanExecution) until it completed, ARC's actual recovery time kept. moto does not model ARC Region switch:
a recording stub speaks the protocol botocore picks for it (JSON 1.0, ``X-Amz-Target: ArcRegionSwitch.<op>``;
the model also offers Smithy RPC v2 CBOR) and keeps one execution's state; the test checks the requests gameday
sends, the region it signs them for, and the outcome of each state. STS (the account check) is moto."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug import Response

from gameday.config import load_environment
from gameday.errors import ConfigError, DriverError
from gameday.targets.aws import region_switch, wait
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml

PLAN = "arn:aws:arc-region-switch::123456789012:plan/ingest-failover/abc123"


class RegionSwitchStub:
    """One plan; an execution walks through ``states`` (one per GetPlanExecution), then stays in the last."""

    def __init__(self, states: list[str], recovery: str | None = "PT4M30S") -> None:
        self.states, self.recovery = states, recovery
        self.requests: list[tuple[str, str, dict]] = []  # (operation, region signed for, body)

    def answer(self, request):
        op, body = request.headers["X-Amz-Target"].split(".")[-1], request.get_json(force=True)
        region = re.search(r"Credential=[^/]+/\d+/([^/]+)/", request.headers["Authorization"]).group(1)
        self.requests.append((op, region, body))
        if op == "StartPlanExecution":
            out = {"executionId": "ex-1", "plan": PLAN, "activateRegion": body["targetRegion"]}
        else:
            polls = sum(1 for o, _, _ in self.requests if o == "GetPlanExecution")
            state = self.states[min(polls, len(self.states)) - 1]
            out = {"planArn": PLAN, "executionId": "ex-1", "executionState": state, "executionAction": "activate",
                   "executionRegion": "us-west-2", "mode": "ungraceful", "version": "1",
                   "stepStates": [{"name": "promote-db", "status": "failed" if state == "failed" else "running"}]}
            if state in region_switch.DONE and self.recovery:
                out["actualRecoveryTime"] = self.recovery
        return Response(json.dumps(out), content_type="application/x-amz-json-1.0")


def _target(tmp_path, httpserver, monkeypatch, stub: RegionSwitchStub | None, *, plan: bool = True, **kw) -> AwsTarget:
    if stub is not None:
        httpserver.expect_request("/", method="POST").respond_with_handler(stub.answer)
        monkeypatch.setenv("AWS_ENDPOINT_URL_ARC_REGION_SWITCH", httpserver.url_for("").rstrip("/"))
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml({"zone_id": "Z1"}, extra=f"  region_switch: {{plan_arn: '{PLAN}'}}\n" if plan else ""))
    return AwsTarget(load_environment(env), **kw)


def test_the_plan_is_executed_in_the_region_it_activates_and_waited_for_until_it_completed(moto, tmp_path, httpserver,
                                                                                            monkeypatch, iam_calls):
    stub = RegionSwitchStub(["pending", "inProgress", "pendingManualApproval", "inProgress", "completed"])
    out = _target(tmp_path, httpserver, monkeypatch, stub).run_region_switch_plan("us-west-2")
    (op, region, body), *polls = stub.requests
    assert op == "StartPlanExecution" and region == "us-west-2", "asked in the region being activated"
    assert {k: body[k] for k in ("planArn", "targetRegion", "action", "mode")} == {
        "planArn": PLAN, "targetRegion": "us-west-2", "action": "activate", "mode": "ungraceful"}
    assert body["clientToken"], "a retried start cannot start a second execution"
    assert {(o, r) for o, r, _ in polls} == {("GetPlanExecution", "us-west-2")}
    assert all(b == {"planArn": PLAN, "executionId": "ex-1"} for _, _, b in polls)
    assert out["state"] == "completed" and out["execution_id"] == "ex-1"
    assert out["actual_recovery_time"] == "PT4M30S" and out["actual_recovery_s"] == 270.0
    assert any("Region switch plan execution ex-1" in w for w in out["waited_for"])
    sent = set().union(*(calls for _, calls in iam_calls))
    assert {"arc-region-switch:StartPlanExecution", "arc-region-switch:GetPlanExecution"} <= sent


def test_a_failed_execution_fails_the_wait_at_once_naming_its_state_and_failed_step(moto, tmp_path, httpserver,
                                                                                    monkeypatch):
    stub = RegionSwitchStub(["inProgress", "failed"])
    t = _target(tmp_path, httpserver, monkeypatch, stub)
    with pytest.raises(DriverError) as info:
        t.run_region_switch_plan("us-west-2")
    assert info.value.code == wait.TERMINAL
    assert "the plan execution ex-1 is failed (failed steps: promote-db)" in str(info.value)
    assert sum(1 for o, _, _ in stub.requests if o == "GetPlanExecution") <= 4, "not polled until the timeout"


def test_a_paused_execution_times_out_naming_the_state_it_was_left_in(moto, tmp_path, httpserver, monkeypatch):
    stub = RegionSwitchStub(["inProgress", "pausedByFailedStep"])
    env = environment_yaml({"zone_id": "Z1"}, wait_timeout_s=0.5, extra=f"  region_switch: {{plan_arn: '{PLAN}'}}\n")
    httpserver.expect_request("/", method="POST").respond_with_handler(stub.answer)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ARC_REGION_SWITCH", httpserver.url_for("").rstrip("/"))
    (tmp_path / "aws.yaml").write_text(env)
    with pytest.raises(DriverError, match=r"timed out .* \(last seen: pausedByFailedStep\)") as info:
        AwsTarget(load_environment(tmp_path / "aws.yaml")).run_region_switch_plan("us-west-2")
    assert info.value.code == wait.WAIT_TIMEOUT


def test_a_plan_of_the_step_starts_nothing(moto, tmp_path, httpserver, monkeypatch):
    stub = RegionSwitchStub(["completed"])
    t = _target(tmp_path, httpserver, monkeypatch, stub, plan_only=True)
    assert t.run_region_switch_plan("us-west-2")["target_region"] == "us-west-2"
    assert not stub.requests and [c["api"] for c in t.actions.calls] == ["arc-region-switch:StartPlanExecution"]


def test_a_runbook_step_without_a_plan_in_the_environment_is_refused_at_load(moto, tmp_path):
    from gameday import operations

    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml({"zone_id": "Z1"}))
    with pytest.raises(ConfigError, match="aws.region_switch.plan_arn") as info:
        operations.validate("run_region_switch_plan", {"region": "{dr_region}"}, load_environment(env),
                            file="runbook.yaml", where="steps[2].args")
    assert info.value.field == "steps[2].args" and info.value.file == "runbook.yaml"


@pytest.mark.parametrize(("text", "seconds"), [("PT4M30S", 270.0), ("PT1H", 3600.0), ("P1DT2S", 86402.0),
                                               ("PT0.5S", 0.5), ("", None), ("P", None), ("4m", None)])
def test_arcs_durations_are_read_as_iso_8601(text, seconds):
    assert region_switch.duration_s(text) == seconds
