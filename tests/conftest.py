"""Fixtures: one real lab for the lab tests, always torn down, even when tests fail."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from gameday.lab.control import LabClient, lab_down, lab_up, read_state

ROOT = Path(__file__).resolve().parents[1]


def _import_locust_unpatched() -> None:
    """Test modules import Locust (its users, its statistics), which patches the standard library with gevent
    when first imported. In a test process that breaks ssl when urllib3 made its context first (botocore, moto:
    RecursionError) and pytest-xdist's worker queue (woken by a real thread: LoopExit). Nothing in the test
    process runs Locust (its processes are started by gameday, and patch as usual), so it is imported unpatched."""
    os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
    try:
        import locust  # noqa: F401
    finally:
        del os.environ["LOCUST_SKIP_MONKEY_PATCH"]  # the Locust processes gameday starts patch as usual


_import_locust_unpatched()


LOCAL_ENV = ROOT / "environments" / "local.yaml"


def _assert_nothing_left(state_dir: Path, pids: list[int]) -> None:
    alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"lab processes left behind: {alive}"


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """A running lab (started once per session), stopped at the end whatever happened."""
    state_dir = tmp_path_factory.mktemp("lab")
    try:
        client = lab_up(LOCAL_ENV, state_dir)
        yield client
    finally:
        st = read_state(state_dir) or {}
        pids = [*st.get("pids", []), *([st["supervisor_pid"]] if st.get("supervisor_pid") else [])]
        lab_down(state_dir)
        _assert_nothing_left(state_dir, pids)


@pytest.fixture
def restored_lab(lab: LabClient):
    """The session lab, brought back to its configured shape after the test."""
    yield lab
    lab.op("restore")
