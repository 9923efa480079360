"""``recover`` undoes exactly the faults still applied: each inverse outcome names its intent (``intent_seq``)."""

from __future__ import annotations

from pathlib import Path

from gameday import operations
from gameday.drill.recover import intent_for_inverse, pending_inverses, recover
from gameday.journal import Journal, read_journal
from gameday.targets.fake import FakeTarget


def _two_zone_faults(path: Path, *, named: bool) -> None:
    """Zone b failed, then zone c; undone last-first: c's restore failed, b's succeeded."""
    j = Journal(path, fsync=False)
    j.record("drill.start", "runner", {"environment_file": "environments/local.yaml"})
    b = j.record("fault.intent", "runner", operations.intent("fail_zone", {"zone": "us-east-1b"}))
    c = j.record("fault.intent", "runner", operations.intent("fail_zone", {"zone": "us-east-1c"}))
    j.record("fault.inverse_failed", "target", {"inverse": "restore_zone", "fault": "fail_zone",
                                                 **({"intent_seq": c.seq} if named else {})}, error="boom")
    j.record("fault.inverse_applied", "target", {"inverse": "restore_zone", "fault": "fail_zone",
                                                  **({"intent_seq": b.seq} if named else {})})
    j.close()


def test_recover_restores_the_zone_whose_restore_failed_not_the_one_already_back(tmp_path):
    journal = tmp_path / "journal.jsonl"
    _two_zone_faults(journal, named=True)
    target = FakeTarget()
    undone = recover(journal, target)
    assert [i["args"] for i in undone] == [{"zone": "us-east-1c"}]
    assert target.calls == [("restore_zone", {"zone": "us-east-1c"})]
    assert pending_inverses(read_journal(journal)) == [], "recover journals what it undid: a second run does nothing"
    assert recover(journal, FakeTarget()) == []


def test_an_old_journal_without_intent_seq_keeps_the_count_rule(tmp_path):
    journal = tmp_path / "journal.jsonl"
    _two_zone_faults(journal, named=False)
    assert [i["args"]["zone"] for i in pending_inverses(read_journal(journal))] == ["us-east-1b"]


def test_a_chaos_rollback_is_paired_with_the_latest_pending_intent_it_undoes(tmp_path):
    j = Journal(tmp_path / "j.jsonl", fsync=False)
    j.record("fault.intent", "chaos", operations.intent("fail_zone", {"zone": "us-east-1b"}))
    c = j.record("fault.intent", "chaos", operations.intent("freeze_zone", {"zone": "us-east-1c"}))
    j.close()
    events = read_journal(tmp_path / "j.jsonl")
    assert intent_for_inverse(events, "restore_zone", {"zone": "us-east-1c"}) == c.seq
    assert intent_for_inverse(events, "restore_zone", {"zone": "us-east-1a"}) is None
    assert intent_for_inverse(events, "restore_region", {"region": "us-east-1"}) is None
