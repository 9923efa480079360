"""The lab signals only process trees it spawned (``gameday.procs``): a number that is no longer its child, a
stranger's or one of its own threads' (kill(2) on a thread id ends the whole process), is left alone and named
on stderr. A lab supervisor once ended itself so, silently, at a zone failure. No lab: a sleeping child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import psutil

from gameday.procs import kill_trees, signal_tree


def test_a_child_is_signalled_and_killed_with_its_tree():
    child = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"])
    try:
        tree = [psutil.Process(child.pid)]
        while len(tree) < 2:  # the grandchild, once it is there
            tree = [psutil.Process(child.pid), *psutil.Process(child.pid).children()]
        assert sorted(signal_tree(child.pid, signal.SIGCONT)) == sorted(p.pid for p in tree)
        kill_trees([child.pid], timeout=5)
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in tree)
        assert child.wait(5) == -signal.SIGKILL, "left for its Popen to reap: the exit code is the kill's"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)


def test_a_thread_id_or_a_stranger_is_never_signalled(capsys):
    parked = threading.Event()
    ids: list[int] = []
    t = threading.Thread(target=lambda: (ids.append(threading.get_native_id()), parked.wait(10)))
    t.start()
    try:
        while not ids:
            parked.wait(0.01)
        # SIGCONT: harmless to this test process and to its parent, were either signalled
        assert signal_tree(ids[0], signal.SIGCONT) == []
        assert signal_tree(os.getppid(), signal.SIGCONT) == []
        kill_trees([os.getpid()], timeout=0)  # this very process: not its own child either
    finally:
        parked.set()
        t.join(5)
    err = capsys.readouterr().err
    assert err.count("not a child of this process") == 3 and str(ids[0]) in err
