"""A drill's restore check reads the ledger in the middle of a run: the Locust engine's per-second hand-overs
joined so far, without a line a worker is still writing."""

from __future__ import annotations

from gameday.load.run import join_spilled
from gameday.service.ids import IdScheme, read_ledger


def test_the_hand_overs_so_far_are_joined_and_a_half_written_line_is_left_for_later(tmp_path):
    ids = IdScheme("run1")
    (tmp_path / "ledger-0.txt").write_text(ids.ledger_line("a", 0, 3, 100.0) + ids.ledger_line("a", 3, 1, 100.5)[:5])
    (tmp_path / "ledger-1.txt").write_text(ids.ledger_line("f", 10, 2, 100.2))
    got = read_ledger(join_spilled(tmp_path, tmp_path / "ledger.sofar"))
    assert got["a"] == {ids.ledger_id(n) for n in range(3)} and got["f"] == {ids.ledger_id(10), ids.ledger_id(11)}
    assert (tmp_path / "ledger-0.txt").exists(), "the engine's files stay for the final ledger.txt"
