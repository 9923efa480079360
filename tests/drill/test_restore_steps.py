"""Restore actions as runbook steps, on the fake Target (no processes): the restore point is T0 from the journal,
the inverse is journaled before the restore begins, a driver failure is a failed step, and a killed run's
throwaway instance is deleted by ``recover``."""

from __future__ import annotations

from typing import Any

from gameday.drill.models import Step
from gameday.drill.recover import recover
from gameday.drill.steps import StepContext, run_step
from gameday.errors import DriverError
from gameday.journal import Journal
from gameday.operations import intent
from gameday.targets.fake import FakeTarget


class _Live:
    def result(self) -> Any:
        raise AssertionError("not used")

    def outage_seen(self) -> bool:
        return False


def _ctx(target: FakeTarget, t_fault: float, intents: list[tuple[str, dict[str, Any]]]) -> StepContext:
    def on_intent(name: str, args: dict[str, Any]) -> None:
        intents.append((name, args))
        assert not any(c[0] == name for c in target.calls), "the inverse must be journaled before the call"
    return StepContext(target, _Live(), 5, t_fault, {"primary_region": "us-east-1", "dr_region": "us-west-2"},
                       manual=lambda s: None, on_intent=on_intent)  # type: ignore[arg-type,return-value]


def _step(call: str, **args: Any) -> Step:
    return Step(id=call.replace("_", "-"), name=call, kind="action", call=call, args=args, budget_s=60, done_when="x")


def test_restore_before_fault_targets_t0_and_journals_its_inverse_first():
    target, intents = FakeTarget(), []
    target.rows = [(100.0, "a"), (200.0, "b"), (300.0, "c")]
    out = run_step(_step("restore_point_in_time", to="before_fault"), _ctx(target, 250.0, intents))
    assert out.ok, out.detail
    assert target.calls[-1] == ("restore_point_in_time", {"to": 250.0, "instance": "gameday-restore"})
    assert intents == [("restore_point_in_time", {"to": 250.0, "instance": "gameday-restore"})]
    assert out.result is not None and out.result["restore_point"] == 250.0
    assert [i for _, i in target.restored["gameday-restore"]["rows"]] == ["a", "b"]  # nothing after T0


def test_a_failing_restore_is_a_failed_step_and_swap_is_not_journaled_as_an_inverse():
    target, intents = FakeTarget(fail_on={"restore_snapshot": DriverError("no snapshot")}), []
    out = run_step(_step("restore_snapshot", snapshot="snap-1"), _ctx(target, 250.0, intents))
    assert not out.ok and "no snapshot" in out.detail
    assert len(intents) == 1  # journaled before the call, so a crash mid-restore is recoverable
    run_step(_step("swap_writer"), _ctx(target, 250.0, intents))
    assert len(intents) == 1


def test_recover_deletes_the_restored_instance_a_killed_run_left(tmp_path):
    target = FakeTarget()
    j = Journal(tmp_path / "journal.jsonl")
    j.record("drill.start", "runner", {"environment_file": "environments/local.yaml"})
    j.record("fault.intent", "runner", intent("restore_point_in_time", {"to": 1.0, "instance": "left-behind"}))
    j.close()
    target.restore_point_in_time(1.0, "left-behind")  # the restore went through; the runner was killed after
    undone = recover(tmp_path / "journal.jsonl", target)
    assert [u["inverse"] for u in undone] == ["discard_restore"]
    assert target.restored == {} and target.calls[-1] == ("discard_restore", {"instance": "left-behind"})
    assert recover(tmp_path / "journal.jsonl", target) == []  # nothing left to undo
