"""A failing rollback is retried within its bounds before it is reported failed, with every attempt journaled:
the drill's undo, ``gameday recover`` and a chaos rollback all reach the target through ``operations.undo`` /
``operations.apply``, so all three get it (in-memory target, no process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fakekit import _run
from gameday import operations
from gameday.drill.recover import pending_inverses, recover
from gameday.errors import ConfigError, DriverError
from gameday.journal import Journal, read_journal
from gameday.operations import Retry
from gameday.targets.fake import FakeTarget

QUICK = Retry(attempts=3, within_s=60, pause_s=0)


class Flaky(FakeTarget):
    """A fake target whose ``restore`` fails its first ``failures`` calls (the database refusing connections)."""

    def __init__(self, failures: int, error: Exception | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.failures = failures
        self.error = error or DriverError("lab restore: FATAL: sorry, too many clients already")
        self.restores = 0

    def restore(self) -> dict[str, Any]:
        if getattr(self, "failures", 0) > 0:  # FakeTarget.__init__ restores once before we are set up
            self.restores += 1
            if self.restores <= self.failures:
                raise self.error
        return super().restore()


def _attempts(path: Path) -> list[dict[str, Any]]:
    return [{**e.value, "error": e.error} for e in read_journal(path) if e.kind == "fault.inverse_attempt_failed"]


def _intent() -> dict[str, Any]:
    return operations.intent("fail_region", {"region": "us-east-1"})


def test_a_rollback_that_fails_twice_succeeds_on_the_third_attempt_and_the_attempts_are_journaled(tmp_path):
    target, j = Flaky(2), Journal(tmp_path / "j.jsonl")
    result = operations.undo(target, _intent(), journal=j, retry=QUICK)
    j.close()
    assert isinstance(result, dict) and target.restores == 3
    tries = _attempts(tmp_path / "j.jsonl")
    assert [(t["attempt"], t["retrying"]) for t in tries] == [(1, True), (2, True)]
    assert all("too many clients" in t["error"] for t in tries)


def test_a_rollback_that_keeps_failing_is_reported_failed_after_its_last_attempt(tmp_path):
    target, j = Flaky(99), Journal(tmp_path / "j.jsonl")
    with pytest.raises(DriverError, match=r"restore failed 3 time\(s\).*too many clients"):
        operations.undo(target, _intent(), journal=j, retry=QUICK)
    j.close()
    assert target.restores == 3, "bounded in count"
    assert [t["retrying"] for t in _attempts(tmp_path / "j.jsonl")] == [True, True, False]


def test_no_new_attempt_starts_once_its_time_is_up(tmp_path):
    target = Flaky(99)
    with pytest.raises(DriverError, match=r"failed 1 time\(s\)"):
        operations.undo(target, _intent(), retry=Retry(attempts=50, within_s=0.5, pause_s=1.0))
    assert target.restores == 1, "the pause would end past the time bound: no second attempt"


def test_invalid_arguments_are_not_retried():
    target = Flaky(99, error=ConfigError("restore: no such zone"))
    with pytest.raises(ConfigError):
        operations.undo(target, _intent(), retry=QUICK)
    assert target.restores == 1


def test_faults_are_never_retried():
    target = FakeTarget(fail_on={"fail_region": DriverError("FIS: throttled")})
    with pytest.raises(DriverError, match="FIS: throttled"):
        operations.apply(target, "fail_region", {"region": "us-east-1"}, retry=QUICK)
    assert [c for c, _ in target.calls].count("fail_region") == 1


def test_the_drill_undo_retries_a_failing_restore_and_leaves_nothing_pending(tmp_path, monkeypatch):
    monkeypatch.setattr(operations, "UNDO_RETRY", QUICK)
    target = Flaky(1, lag_s=0.1)
    _run(tmp_path, target)
    journal = tmp_path / "out" / "journal.jsonl"
    kinds = [e.kind for e in read_journal(journal)]
    assert "fault.inverse_attempt_failed" in kinds and "fault.inverse_failed" not in kinds
    assert kinds.index("fault.inverse_attempt_failed") < kinds.index("fault.inverse_applied")
    assert pending_inverses(read_journal(journal)) == []


def test_recover_retries_too(tmp_path, monkeypatch):
    monkeypatch.setattr(operations, "UNDO_RETRY", QUICK)
    j = Journal(tmp_path / "j.jsonl")
    j.record("drill.start", "runner", {"environment_file": "environments/local.yaml"})
    j.record("fault.intent", "runner", _intent())
    j.close()
    target = Flaky(2)
    assert len(recover(tmp_path / "j.jsonl", target)) == 1
    assert target.restores == 3 and len(_attempts(tmp_path / "j.jsonl")) == 2
    assert pending_inverses(read_journal(tmp_path / "j.jsonl")) == []
