"""One run id: the drill's journal, report.json, the metrics endpoint and the annotations all carry the same."""

from __future__ import annotations

import contextlib
import re

from prometheus_client import generate_latest

import gameday.api.drill as api_drill
from fakekit import _drill
from gameday.drill.fakes import fake_background, fake_reconciler
from gameday.grafana.annotations import annotation_for
from gameday.journal import read_journal
from gameday.metrics import RunnerMetrics
from gameday.targets.fake import FakeTarget


def test_the_drill_api_gives_journal_report_metrics_and_annotations_one_run_id(tmp_path, monkeypatch):
    target = FakeTarget(lag_s=0.1)
    made = []

    @contextlib.contextmanager
    def fake_target(*args, **kwargs):
        yield target

    def observers(*args, **kwargs):
        obs = real_observers(*args, **kwargs)
        made.append(obs)
        return obs

    real_observers = api_drill.observers
    monkeypatch.setattr(api_drill, "open_target", fake_target)
    monkeypatch.setattr(api_drill, "observers", observers)
    summary = api_drill.run_drill(_drill(tmp_path), out_dir=tmp_path / "out", metrics_port=0,
                                  background=fake_background(target), reconciler=fake_reconciler(target))
    events = read_journal(tmp_path / "out" / "journal.jsonl")
    journal_id = events[0].value["run_id"]
    assert summary["run_id"] == journal_id
    [obs] = made
    [metrics] = [x for x in obs.listeners if isinstance(x, RunnerMetrics)]
    exposed = re.findall(r'gameday_run_info\{kind="drill",run_id="(\w+)"\}', generate_latest(metrics.registry).decode())
    assert exposed == [journal_id]
    tags = annotation_for(events[0], obs.run_id, "drill")["tags"]  # the annotator is built with obs.run_id
    assert f"run:{journal_id}" in tags


def test_a_caller_run_id_reaches_the_journal(tmp_path):
    from fakekit import _run

    target = FakeTarget()
    s = _run(tmp_path, target, run_id="abc1234567")
    assert s["run_id"] == "abc1234567"
    assert read_journal(tmp_path / "out" / "journal.jsonl")[0].value["run_id"] == "abc1234567"
