"""Nothing outlives the lab: not lab down, not a SIGKILLed supervisor."""

from __future__ import annotations

import os
import signal
import time

import psutil

from conftest import LOCAL_ENV
from gameday.lab.control import lab_down, lab_up, read_state


def _alive(pids):
    out = []
    for p in pids:
        try:
            if psutil.Process(p).status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _all_lab_pids(sup: int) -> list[int]:
    return [sup] + [c.pid for c in psutil.Process(sup).children(recursive=True)]


def _cache_pids(pids: list[int]) -> dict[str, list[int]]:
    """The lab's Valkey processes among ``pids``: cache nodes (primary, replica, DR replica) and sentinels."""
    out: dict[str, list[int]] = {"node": [], "sentinel": []}
    for p in pids:
        cmd = " ".join(psutil.Process(p).cmdline())
        if "valkey" in cmd:
            out["sentinel" if "sentinel" in cmd else "node"].append(p)  # valkey retitles: "… [sentinel]"
    return out


def test_up_is_idempotent_and_sigkill_of_the_supervisor_leaves_nothing(tmp_path):
    state_dir = tmp_path / "lab"
    try:
        first = lab_up(LOCAL_ENV, state_dir)
        sup = read_state(state_dir)["supervisor_pid"]
        again = lab_up(LOCAL_ENV, state_dir)
        assert again.public_endpoint == first.public_endpoint
        assert read_state(state_dir)["supervisor_pid"] == sup, "a second 'lab up' must not start another lab"
        pids = _all_lab_pids(sup)
        assert len(pids) > 10  # supervisor, 3 postgres servers with their workers, 7 nodes
        cache = _cache_pids(pids)
        assert len(cache["node"]) == 3 and len(cache["sentinel"]) == 3, cache  # among what must not outlive it
        os.kill(sup, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pids), f"left behind after SIGKILL of the supervisor: {_alive(pids)}"
    finally:
        lab_down(state_dir)
    assert not (state_dir / "state.json").exists()


def test_lab_down_stops_every_process(tmp_path):
    state_dir = tmp_path / "lab"
    try:
        lab_up(LOCAL_ENV, state_dir)
        pids = _all_lab_pids(read_state(state_dir)["supervisor_pid"])
        cache = _cache_pids(pids)
    finally:
        assert lab_down(state_dir)
    assert len(cache["node"]) == 3 and len(cache["sentinel"]) == 3, cache
    assert not _alive(pids)
    assert not lab_down(state_dir), "a second lab down finds nothing to stop"
