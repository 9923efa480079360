"""A soak's runner reads progress.jsonl as it grows: each read returns what was appended since the last one
(a torn last line waits for its newline, a broken complete line is skipped, not the end of reading), and the
chaos probes read only its end. Fast: no processes."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.load.run import read_progress, recent_window
from gameday.load.tail import ProgressTail, last_records


def _rec(t: int, worker: int = 0, sent: int = 10, errors: int = 0, p95: float = 5.0) -> dict:
    return {"worker": worker, "t": float(t), "sent": sent, "errors": errors, "indeterminate": 0, "p95_ms": p95}


def _append(path: Path, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


def test_the_tail_returns_only_what_was_appended_and_a_torn_line_once_it_is_complete(tmp_path):
    path = tmp_path / "progress.jsonl"
    tail = ProgressTail(path)
    assert tail.read_new() == [], "no file yet: nothing, no error"
    _append(path, json.dumps(_rec(1)) + "\n" + json.dumps(_rec(2)) + "\n")
    assert [r["t"] for r in tail.read_new()] == [1.0, 2.0]
    assert tail.read_new() == [], "nothing new: nothing returned twice"
    line = json.dumps(_rec(3))
    _append(path, line[:17])  # the generator is half-way through writing its line
    assert tail.read_new() == []
    _append(path, line[17:] + "\n")
    assert [r["t"] for r in tail.read_new()] == [3.0]
    assert tail.offset == path.stat().st_size


def test_a_broken_complete_line_is_skipped_and_what_follows_is_still_read(tmp_path):
    path = tmp_path / "progress.jsonl"
    _append(path, json.dumps(_rec(1)) + "\n{not json\n" + json.dumps(_rec(2)) + "\n")
    tail = ProgressTail(path)
    assert [r["t"] for r in tail.read_all_new()] == [1.0, 2.0]
    assert tail.skipped == 1
    assert [r["t"] for r in read_progress(path)] == [1.0, 2.0]


def test_a_replaced_file_is_read_from_its_start(tmp_path):
    path = tmp_path / "progress.jsonl"
    _append(path, "".join(json.dumps(_rec(t)) + "\n" for t in range(1, 50)))
    tail = ProgressTail(path)
    assert len(tail.read_all_new()) == 49
    path.write_text(json.dumps(_rec(1, worker=7)) + "\n")  # a new run in the same folder
    assert [r["worker"] for r in tail.read_new()] == [7]


def test_a_reader_that_fell_behind_catches_up_in_bounded_chunks(tmp_path):
    path = tmp_path / "progress.jsonl"
    _append(path, "".join(json.dumps(_rec(t)) + "\n" for t in range(1, 2001)))
    tail = ProgressTail(path)
    first = tail.read_new(limit=4096)
    assert 0 < len(first) < 2000, "one read takes one chunk, not the whole file"
    rest = tail.read_all_new()
    assert [r["t"] for r in first + rest] == [float(t) for t in range(1, 2001)]


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.integers(1, 400), min_size=0, max_size=60), cuts=st.lists(st.integers(0, 10_000)),
       n=st.integers(1, 80))
def test_any_sequence_of_partial_writes_yields_every_record_once_in_order(tmp_path_factory, lines, cuts, n):
    """However the bytes arrive (cut anywhere), the tail returns each record once, in order; last_records the
    last n complete ones, as a whole-file read would."""
    path = tmp_path_factory.mktemp("p") / "progress.jsonl"
    path.touch()
    data = "".join(json.dumps({"t": i, "pad": "x" * size}) + "\n" for i, size in enumerate(lines))
    tail, got, at = ProgressTail(path), [], 0
    for c in sorted(min(c, len(data)) for c in cuts) + [len(data)]:
        _append(path, data[at:c])
        at = max(at, c)
        got += [r["t"] for r in tail.read_new(limit=512)]
        complete = data[:at].count("\n")
        assert [r["t"] for r in last_records(path, n, block=256)] == list(range(complete))[-n:]
    got += [r["t"] for r in tail.read_all_new()]
    assert got == list(range(len(lines)))


def test_recent_window_reads_the_last_records_of_a_long_file(tmp_path):
    path = tmp_path / "progress.jsonl"
    _append(path, "".join(json.dumps(_rec(t)) + "\n" for t in range(1, 5000)))
    _append(path, "".join(json.dumps(_rec(t, sent=10, errors=5, p95=80.0)) + "\n" for t in range(5000, 5010)))
    _append(path, '{"worker": 0, "t": 5010')  # torn
    w = recent_window(path, 10)
    assert w == {"sent": 100, "error_ratio": 0.5, "p95_ms": 80.0, "limited": None, "added_ms": None}
