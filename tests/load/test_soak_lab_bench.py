"""``make bench-soak-lab``'s rule: the runner's CPU in the last minute within 20 % of the first, and what was not
measured is never PASS. Fast: no lab (the soak itself is the bench's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gameday.api.soak_lab_bench import Minute, judge, sample_runner, table

_cpu = st.floats(min_value=0.001, max_value=60.0, allow_nan=False)
_wall = st.floats(min_value=30.0, max_value=90.0, allow_nan=False)


def _minutes(cpus: list[float], walls: list[float]) -> list[Minute]:
    return [Minute(i + 1, w, c, 1000 * (i + 1)) for i, (c, w) in enumerate(zip(cpus, walls, strict=True))]


@given(st.lists(st.tuples(_cpu, _wall), min_size=2, max_size=12))
def test_pass_exactly_when_the_last_minute_costs_at_most_1_2_times_the_first(pairs: list[tuple[float, float]]) -> None:
    minutes = _minutes([c for c, _ in pairs], [w for _, w in pairs])
    verdict, why = judge(minutes, len(minutes))
    first, last = minutes[0].cpu_s / minutes[0].wall_s, minutes[-1].cpu_s / minutes[-1].wall_s
    assert verdict == ("pass" if last / first <= 1.2 else "fail"), why


def test_a_runner_whose_cost_grows_fails_naming_the_growth() -> None:
    verdict, why = judge(_minutes([1.0, 1.1, 1.3, 1.6], [60.0] * 4), 4)
    assert verdict == "fail" and "1.60x" in why


def test_per_second_of_wall_time_not_per_minute_sample() -> None:
    # the last sample came 20 s late: the same cost per second is flat, not 33 % more
    assert judge(_minutes([1.0, 1.0, 1.0 * 80 / 60], [60.0, 60.0, 80.0]), 3)[0] == "pass"


@given(st.lists(st.tuples(_cpu, _wall), min_size=0, max_size=9))
def test_fewer_minutes_than_wanted_is_never_pass(pairs: list[tuple[float, float]]) -> None:
    verdict, why = judge(_minutes([c for c, _ in pairs], [w for _, w in pairs]), 10)
    assert verdict == "inconclusive" and f"{len(pairs)} of 10" in why


def test_no_cpu_in_the_first_minute_is_no_ratio() -> None:
    assert judge(_minutes([0.0, 2.0], [60.0, 60.0]), 2)[0] == "inconclusive"


def test_the_table_shows_every_minute_with_the_progress_size() -> None:
    text = table(_minutes([1.5, 1.5], [60.0, 60.0]))
    assert "| 1 | 0.00 MB | 1.50 s | 2.50 % |" in text and text.count("\n") == 3


def _fake_runner(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_runner_that_ends_early_is_measured_short_and_inconclusive(tmp_path: Path) -> None:
    progress = tmp_path / "progress.jsonl"
    proc = _fake_runner(f"import pathlib, time; pathlib.Path({str(progress)!r}).write_text('{{}}\\n'); time.sleep(0.3)")
    try:
        minutes = sample_runner(proc, progress, minutes=50, minute_s=0.1)
    finally:
        proc.wait(10)
    assert len(minutes) < 50
    assert judge(minutes, 50)[0] == "inconclusive"


def test_a_runner_that_never_starts_the_load_is_not_measured(tmp_path: Path) -> None:
    proc = _fake_runner("pass")
    try:
        assert sample_runner(proc, tmp_path / "progress.jsonl", minutes=2, minute_s=0.1, start_timeout_s=30) == []
    finally:
        proc.wait(10)


def test_every_minute_is_one_minute_long_not_one_longer_than_the_last(tmp_path: Path) -> None:
    progress = tmp_path / "progress.jsonl"
    proc = _fake_runner(f"import pathlib, time; pathlib.Path({str(progress)!r}).write_text('{{}}\\n'); time.sleep(30)")
    try:
        minutes = sample_runner(proc, progress, minutes=4, minute_s=0.4)
    finally:
        proc.kill()
        proc.wait(10)
    assert [m.index for m in minutes] == [1, 2, 3, 4]
    assert all(m.wall_s < 1.0 for m in minutes), [m.wall_s for m in minutes]  # 4th minute: 1.6 s when they grew
