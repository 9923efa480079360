"""Starting and ending the lab's child processes.

Every child runs in the supervisor's process group and gets a parent-death signal, so that
nothing outlives the supervisor, even when it is killed with SIGKILL.
"""

from __future__ import annotations

import collections
import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

__all__ = ["free_port", "die_with_parent", "spawn", "kill_tree", "kill_trees", "signal_tree", "wait_port", "pid_alive"]

_PR_SET_PDEATHSIG = 1


# Ports handed out by this process lately: never the same one twice while its user may still be starting.
_HANDED: collections.deque[int] = collections.deque(maxlen=2048)
_PICK = random.SystemRandom()  # not the module's generator: a test (hypothesis) seeds that one alike in every process


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, chosen below the kernel's ephemeral range.

    Binding port 0 would pick from the ephemeral range, the same ports the kernel gives outgoing connections:
    under load (thousands of client and database connections) one of them took the port in the second
    between this check and the lab process binding it, and an ingest node died at start (CI, once). Below
    the range only another listener can take it; ports are picked at random so that the test process, the
    supervisor and the drill runner, each picking, rarely meet. No library does this (portpicker binds 0)."""
    low, _ = _ephemeral_range()
    top = low - 1 if low > 12000 else 0
    for _ in range(64 if top else 0):
        port = _PICK.randint(10000, top)
        if port in _HANDED:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED.append(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # no room below the range: the kernel's pick
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent(parent_pid: int) -> None:
    # No library offers prctl(PR_SET_PDEATHSIG); ctypes is the whole of it. Set after any uid change
    # (Popen applies user= before preexec_fn), since a credential change clears the signal.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def spawn(argv: Sequence[str], *, log: Path, user: str | None = None,
          env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` in the caller's process group; it is killed if the caller dies."""
    parent = os.getpid()
    out = open(log, "ab")
    try:
        return subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            user=user, env=env, cwd=cwd, preexec_fn=lambda: die_with_parent(parent),
        )
    finally:
        out.close()


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _own_tree(pid: int) -> list[psutil.Process]:
    """``pid`` and its descendants, only when ``pid`` is a child process of the caller: every tree gameday
    signals is one it spawned. A number that is no longer that child (reaped, then reused by a stranger, or by
    a thread: /proc answers for thread ids too, and kill(2) on one ends the whole process it belongs to) is
    left alone, and said so on stderr, never signalled."""
    try:
        root = psutil.Process(pid)
        if root.ppid() != os.getpid():
            print(f"warning: not signalling pid {pid}: not a child of this process (it is {root.name()!r}, "
                  f"parent {root.ppid()})", file=sys.stderr, flush=True)
            return []
        return [*root.children(recursive=True), root]
    except psutil.Error:
        return []


def signal_tree(pid: int, sig: int) -> list[int]:
    """Send ``sig`` to ``pid`` and all its descendants (children first for SIGSTOP safety)."""
    procs = _own_tree(pid)
    hit = []
    order = procs if sig == signal.SIGSTOP else list(reversed(procs))
    for p in order:
        try:
            p.send_signal(sig)
            hit.append(p.pid)
        except psutil.NoSuchProcess:
            pass
    return hit


def kill_tree(pid: int, timeout: float = 3.0) -> None:
    """SIGKILL ``pid`` and its descendants and wait for them to be gone."""
    kill_trees([pid], timeout)


def kill_trees(pids: Sequence[int], timeout: float = 3.0) -> None:
    """SIGKILL every process tree at once (one instant, as a power loss), then wait up to ``timeout``.

    ``timeout=0`` only signals: event-loop code must not block on waiting.
    """
    procs: list[psutil.Process] = []
    for pid in pids:
        procs += _own_tree(pid)
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    if timeout > 0:
        _wait_gone(procs, set(pids), timeout)


def _wait_gone(procs: list[psutil.Process], roots: set[int], timeout: float) -> None:
    """Wait until every process is gone, the roots (this process's children) only until they are zombies: their
    ``Popen`` reaps them. psutil's wait reaps a child behind its Popen, which then reads exit code 0, and the
    number is free for the next process while the Popen may still take it for its own."""
    deadline = time.monotonic() + timeout
    psutil.wait_procs([p for p in procs if p.pid not in roots], timeout=timeout)
    for p in procs:
        while p.pid in roots and time.monotonic() < deadline:
            try:
                if p.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.02)


def wait_port(port: int, timeout: float, host: str = "127.0.0.1") -> bool:
    """True once something accepts TCP connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False
