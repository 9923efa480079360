"""What AWS reported, in the drill's report beside gameday's own figures, on the in-memory target standing in for
the AWS driver (its results have the AWS driver's shape; the driver itself is tested on moto and on recording
stubs in tests/targets): ARC Region switch's actual recovery time beside the data RTO/RPO, the region isolation's
RPO as a lower bound with CloudWatch's replica lag at T0 judged as the estimate, and MSK consumer lag readings on
the timeline and as a runbook wait."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import ROOT
from gameday.drill import steps
from gameday.drill.fakes import fake_background, fake_reconciler
from gameday.drill.models import load_drill
from gameday.drill.runner import DrillRun
from gameday.errors import ConfigError
from gameday.journal import read_journal
from gameday.targets.base import FaultResult
from gameday.targets.fake import FakeTarget
from targets.conftest import environment_yaml

PLAN = "arn:aws:arc-region-switch::123456789012:plan/ingest-failover/abc123"
RUNBOOK = """
name: region-switch
title: region failover by the team's ARC Region switch plan
steps:
  - {id: alert, name: Alert, kind: wait, wait_for: synthetic_failing, timeout_s: 5, budget_s: 60, done_when: failing}
  - {id: switch, name: Region switch, kind: action, call: run_region_switch_plan, args: {region: "{dr_region}"},
     budget_s: 600, done_when: the plan execution completed}
  - {id: drained, name: Consumers caught up, kind: wait, wait_for: consumer_lag_below, args: {max_offset_lag: 100},
     timeout_s: 5, budget_s: 300, done_when: lag below 100}
  - {id: smoke, name: Smoke, kind: wait, wait_for: synthetic_recovered, timeout_s: 5, budget_s: 300, done_when: ok}
"""


class AwsLike(FakeTarget):
    """The fake, answering the AWS driver's way for what this test reads."""

    def __init__(self, replica_lag_s: float | None) -> None:
        super().__init__(lag_s=0.1)
        self.replica_lag_s, self.lag_reads = replica_lag_s, 0

    def fail_region(self, region: str) -> FaultResult:
        r = super().fail_region(region)
        lag = {"metric": "ReplicaLag", "lag_s": self.replica_lag_s} if self.replica_lag_s is not None else {
            "metric": "ReplicaLag", "lag_s": None, "why_none": "no ReplicaLag datapoint in the last 5 minutes"}
        return FaultResult(r.t_applied, {**r.detail, "replica_lag_at_t0": lag,
                                         "managed_replication": "not stopped by the NACL isolation"})

    def run_region_switch_plan(self, region: str, action: str = "activate", mode: str = "ungraceful") -> dict[str, Any]:
        super().run_region_switch_plan(region, action, mode)
        self.promote_dr_db()  # what the team's plan does: its steps promote the database and shift traffic
        self.switch_dns(region)
        return {"plan": PLAN, "target_region": region, "action": action, "mode": mode, "execution_id": "ex-1",
                "state": "completed", "actual_recovery_time": "PT4M30S", "actual_recovery_s": 270.0}

    def consumer_lag(self) -> dict[str, Any] | None:
        self.lag_reads += 1
        return {"consumer_group": "ingest-writers", "topic": "trips", "at": time.time(),
                "max_offset_lag": 5000.0 if self.lag_reads < 3 else 40.0, "max_time_lag_s": 90.0 if self.lag_reads < 3 else 2.0}


def _files(tmp_path, *, lag: bool = True, rpo_s: float = 300):
    tmp_path.mkdir(parents=True, exist_ok=True)
    extra = f"  region_switch: {{plan_arn: '{PLAN}'}}\n"
    if lag:
        extra += "  msk_consumer_lag: {consumer_group: ingest-writers, topic: trips, cluster_name: events, observe_every_s: 1}\n"
    (tmp_path / "aws.yaml").write_text(environment_yaml({"zone_id": "Z1"}, extra=extra))
    (tmp_path / "runbook.yaml").write_text(RUNBOOK)
    drill = tmp_path / "drill.yaml"
    drill.write_text(f"""
name: aws-region-switch
environment: {tmp_path / 'aws.yaml'}
runbook: {tmp_path / 'runbook.yaml'}
load: {{profile: builtin, rate: 100, batch: 2}}
fault: {{action: fail_region, args: {{region: "{{primary_region}}"}}, effect_within_s: 0.3}}
targets: {{rto_s: 1800, rpo_s: {rpo_s}}}
probe: {{interval_s: 0.05, consecutive: 3, timeout_s: 1}}
warmup_s: 0.3
cooldown_s: 0.1
manual_confirm_s: 0
recovery_timeout_s: 2
""")
    return drill


def _run(tmp_path, target, **kw) -> dict:
    loaded = load_drill(_files(tmp_path, **kw))
    return DrillRun(loaded, target, tmp_path / "out", background=fake_background(target),
                    reconciler=fake_reconciler(target)).execute()


def test_arcs_recovery_time_the_rpo_lower_bound_and_the_consumer_lag_are_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(steps, "_LAG_READ_EVERY_S", 0.1)
    s = _run(tmp_path, AwsLike(replica_lag_s=2.5))
    assert s["verdict"] == "pass", s["reasons"]
    assert s["region_switch"] == [{"step": "switch", "execution_id": "ex-1", "state": "completed", "action": "activate",
                                   "mode": "ungraceful", "target_region": "us-west-2",
                                   "actual_recovery_time": "PT4M30S", "actual_recovery_s": 270.0}]
    assert s["region_isolation"]["replica_lag_s"] == 2.5
    assert next(t for t in s["targets"] if t["name"] == "rpo_region_loss_estimate")["ok"]
    readings = s["consumer_lag"]["readings"]
    assert readings[0]["max_offset_lag"] == 5000 and readings[-1]["max_offset_lag"] == 40
    assert s["consumer_lag"]["max_offset_lag"] == 5000
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| RTO |" in md and "| ARC Region switch actual recovery time (step switch: completed, activate us-west-2, " \
                                  "ungraceful) | 270 s |" in md
    assert "kept receiving WAL, so the measured RPO is a lower bound of a real region loss" in md
    assert "CloudWatch reported ReplicaLag = 2.5 s at T0" in md
    assert "## MSK consumer lag (CloudWatch)" in md
    html = (tmp_path / "out" / "report.html").read_text()
    assert "MSK consumer lag, max offset lag (ingest-writers on trips, CloudWatch)" in html  # the timeline's panel
    assert "270 s" in html
    ends = {e.value["id"]: e.value for e in read_journal(tmp_path / "out" / "journal.jsonl") if e.kind == "step.end"}
    assert ends["drained"]["ok"] and ends["drained"]["detail"] == "consumer_lag_below: true"


def test_a_region_loss_estimate_over_the_rpo_target_fails_and_none_is_not_a_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(steps, "_LAG_READ_EVERY_S", 0.1)
    over = _run(tmp_path / "over", AwsLike(replica_lag_s=400.0))
    assert over["verdict"] == "fail" and any("rpo_region_loss_estimate target breached" in r for r in over["reasons"])
    unknown = _run(tmp_path / "unknown", AwsLike(replica_lag_s=None))
    assert unknown["verdict"] == "inconclusive"
    assert "rpo_region_loss_estimate could not be measured" in unknown["reasons"]
    assert "no ReplicaLag datapoint" in (tmp_path / "unknown" / "out" / "report.md").read_text()


def test_a_lag_wait_without_a_consumer_group_in_the_environment_is_refused_at_load(tmp_path):
    with pytest.raises(ConfigError, match="aws.msk_consumer_lag") as info:
        load_drill(_files(tmp_path, lag=False))
    assert info.value.field == "steps[2].wait_for"


def test_a_lag_wait_needs_a_limit(tmp_path):
    drill = _files(tmp_path)
    (tmp_path / "runbook.yaml").write_text(RUNBOOK.replace("args: {max_offset_lag: 100}", "args: {lag: 1}"))
    with pytest.raises(ConfigError, match="consumer_lag_below needs args max_offset_lag and/or max_time_lag_s"):
        load_drill(drill)


def test_the_lab_refuses_a_region_switch_step():
    from gameday import operations
    from gameday.config import load_environment

    with pytest.raises(ConfigError, match="aws.region_switch.plan_arn"):
        operations.validate("run_region_switch_plan", {"region": "{dr_region}"},
                            load_environment(ROOT / "environments" / "local.yaml"))
