"""The ledger of a distributed gate (master + 2 workers, loopback no-op service, no lab): the engines hand their
ranges over every second (their memory does not grow with the run), and ledger.txt still holds every event id
sent, once, with its outcome; the per-worker files are joined and removed."""

from __future__ import annotations

import pytest
from test_gate_verdicts import STEADY, _gate, _noop

from conftest import ROOT
from gameday.service.ids import ack_times, read_ledger


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_a_distributed_gates_ledger_holds_every_event_once(tmp_path):
    with _noop() as host:
        code, s = _gate(tmp_path, STEADY, host, "--rate", "200", "--duration", "3", "--batch", "2", "--workers", "2")
    # the ledger is the subject, not the verdict: beside the other xdist worker on 2 cores the two engines may
    # start a few requests late (16 of 300 in one CI run), INCONCLUSIVE for that reason alone
    assert code == 0 or (code == 3 and all(r.startswith("the generator limited the test") for r in s["reasons"])), \
        s["reasons"]
    book = read_ledger(tmp_path / "ledger.txt")
    assert len(book["a"]) == s["events_acked"] == s["requests_sent"] * 2 and not book["f"] and not book["i"]
    lines = (tmp_path / "ledger.txt").read_text().splitlines()
    assert {ln.split()[2][-2:] for ln in lines} == {"w0", "w1"}, "both workers' ids"
    assert sum(int(ln.split()[5]) for ln in lines) == len(book["a"]), "no id written twice"
    assert len(ack_times(tmp_path / "ledger.txt")) == len(book["a"])
    assert not list(tmp_path.glob("ledger-*.txt"))
