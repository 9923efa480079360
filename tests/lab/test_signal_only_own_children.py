"""The lab signals only process trees it spawned (``gameday.procs``): a number that is no longer its child, a
stranger's or one of its own threads' (kill(2) on a thread id ends the whole process), is left alone and named
on stderr. A lab supervisor once ended itself so, silently, at a zone failure. No lab: a sleeping child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import psutil

from gameday.procs import kill_trees, signal_tree


def _child_with_grandchild() -> tuple[subprocess.Popen[bytes], psutil.Process]:
    """A sleeping child that started a sleeping grandchild (bounded: 10 s for it to appear)."""
    child = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"])
    deadline = time.monotonic() + 10
    while not psutil.Process(child.pid).children() and time.monotonic() < deadline:
        time.sleep(0.01)
    return child, psutil.Process(child.pid).children()[0]


def _end(child: subprocess.Popen[bytes], grandchild: psutil.Process) -> None:
    """This test's own two processes, by their ids, whatever the test did."""
    for p in (grandchild, psutil.Process(child.pid) if child.poll() is None else None):
        if p is not None and p.is_running():
            p.kill()
    child.wait(5)


def test_a_child_is_signalled_and_killed_with_its_tree():
    child, grandchild = _child_with_grandchild()
    try:
        tree = [psutil.Process(child.pid), grandchild]
        assert sorted(signal_tree(child.pid, signal.SIGCONT)) == sorted(p.pid for p in tree)
        kill_trees([child.pid], timeout=5)
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in tree)
        assert child.wait(5) == -signal.SIGKILL, "left for its Popen to reap: the exit code is the kill's"
    finally:
        _end(child, grandchild)


def test_a_thread_id_or_a_stranger_is_never_signalled(capsys):
    parked = threading.Event()
    ids: list[int] = []
    t = threading.Thread(target=lambda: (ids.append(threading.get_native_id()), parked.wait(10)))
    t.start()
    child, grandchild = _child_with_grandchild()
    try:
        while not ids:
            parked.wait(0.01)
        # SIGCONT: harmless to this test process and to its parent, were either signalled
        assert signal_tree(ids[0], signal.SIGCONT) == []
        assert signal_tree(os.getppid(), signal.SIGCONT) == []
        kill_trees([grandchild.pid], timeout=0)  # a stranger's child (a pid this process never spawned)
        time.sleep(0.1)
        assert grandchild.is_running() and grandchild.status() != psutil.STATUS_ZOMBIE
    finally:
        parked.set()
        t.join(5)
        _end(child, grandchild)
    err = capsys.readouterr().err
    assert err.count("not a child of this process") == 3 and str(ids[0]) in err
