"""A drill's view of the cache, through its primary endpoint (what an application's cache client speaks):

- the cache probe: ``SET`` a key, ``GET`` it back, every ``interval_s``; journaled as ``cache.probe``
  (``started``, ``ok``, ``error``), the cache's RTO evidence;
- the cache heartbeat: ``SET gameday:hb:<run>:<seq> <ts>`` every ``interval_s``; each acknowledged one
  journaled as ``cache.ack`` (``seq``, ``ts``): the ledger of acknowledged cache writes;
- the reconciliation: which of those keys the primary holds after the failover (``cache.reconcile``:
  the present seqs as ranges). Acknowledged SETs missing there were lost to asynchronous replication.

Every connection is a fresh one after a failure (the endpoint drops connections when the primary changes).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from gameday.journal import Journal
from gameday.judge.rpo import seq_ranges

__all__ = ["CacheWatch", "reconcile_cache", "hb_key"]


def hb_key(run_id: str, seq: int) -> str:
    return f"gameday:hb:{run_id}:{seq}"


def _client(url: str, timeout: float) -> Any:
    import valkey

    return valkey.Valkey.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                  decode_responses=True, retry_on_timeout=False)


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).strip()[:160]}"


class CacheWatch:
    """The cache probe and the cache heartbeat, each on its own thread, until ``stop``."""

    def __init__(self, *, url: str, run_id: str, journal: Journal, probe_interval_s: float, probe_timeout_s: float,
                 heartbeat_interval_s: float, max_s: float) -> None:
        self.url, self.run_id, self.journal = url, run_id, journal
        self.probe_interval_s, self.timeout_s = probe_interval_s, probe_timeout_s
        self.heartbeat_interval_s, self.max_s = heartbeat_interval_s, max_s
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._probe, name="cache-probe", daemon=True),
                         threading.Thread(target=self._heartbeat, name="cache-heartbeat", daemon=True)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(10)

    def _loop(self, interval_s: float, once: Any) -> None:
        import valkey

        deadline = time.monotonic() + self.max_s
        client = _client(self.url, self.timeout_s)
        n = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            began = time.monotonic()
            n += 1
            try:
                once(client, n)
            except (valkey.ValkeyError, OSError) as exc:
                once(None, n, exc)
                client.close()
                client = _client(self.url, self.timeout_s)  # a new connection: maybe to the new primary
            self._stop.wait(max(0.0, interval_s - (time.monotonic() - began)))
        client.close()

    def _probe(self) -> None:
        state = {"started": 0.0}

        def once(client: Any, n: int, exc: Exception | None = None) -> None:
            if client is None:
                self.journal.record("cache.probe", "cache", {"started": state["started"], "ok": False},
                                    error=_short(exc) if exc else None)
                return
            state["started"] = time.time()
            key = f"gameday:probe:{self.run_id}:{n}"
            client.set(key, str(n), ex=600)
            ok = client.get(key) == str(n)
            self.journal.record("cache.probe", "cache", {"started": state["started"], "ok": ok},
                                error=None if ok else "read: the value just written is not there")

        self._loop(self.probe_interval_s, once)

    def _heartbeat(self) -> None:
        reported = [False]

        def once(client: Any, seq: int, exc: Exception | None = None) -> None:
            if client is None:
                if not reported[0]:  # once: an outage fails every heartbeat, the journal needs the first
                    reported[0] = True
                    self.journal.record("cache.heartbeat_failed", "cache", {}, error=_short(exc) if exc else None)
                return
            ts = time.time()
            client.set(hb_key(self.run_id, seq), f"{ts:.6f}", ex=3600)
            self.journal.record("cache.ack", "cache", {"seq": seq, "ts": ts})

        self._loop(self.heartbeat_interval_s, once)


def reconcile_cache(url: str, run_id: str, acked: list[int], timeout: float = 3.0) -> dict[str, Any]:
    """The acknowledged heartbeat seqs the cache's primary holds now (as ranges), asked through the endpoint."""
    client = _client(url, timeout)
    try:
        present: list[int] = []
        for i in range(0, len(acked), 1000):
            chunk = acked[i:i + 1000]
            values = client.mget([hb_key(run_id, s) for s in chunk])
            present += [s for s, v in zip(chunk, values, strict=True) if v is not None]
        role = client.execute_command("ROLE")[0]
    finally:
        client.close()
    return {"acked": len(acked), "present": seq_ranges(present), "lost": len(acked) - len(present), "role": role}


def start_watch(url: str | None, wanted: bool, *, run_id: str, journal: Journal, probe_interval_s: float,
                probe_timeout_s: float, heartbeat_interval_s: float, max_s: float) -> CacheWatch | None:
    """The drill's cache watch when its targets name the cache (``wanted``); journaled when there is no cache to
    watch (its targets are then unmeasured: INCONCLUSIVE, never PASS)."""
    if not wanted:
        return None
    if url is None:
        journal.record("cache.reconcile_failed", "cache", {}, error="the environment has no cache to watch")
        return None
    watch = CacheWatch(url=url, run_id=run_id, journal=journal, probe_interval_s=probe_interval_s,
                       probe_timeout_s=probe_timeout_s, heartbeat_interval_s=heartbeat_interval_s, max_s=max_s)
    watch.start()
    return watch


def finish_watch(watch: CacheWatch | None, journal: Journal, *, reconcile: bool) -> None:
    """Stop the watch; reconcile its acknowledged heartbeats against the primary the endpoint reaches now."""
    if watch is None:
        return
    watch.stop()
    if not reconcile:
        return
    acked = [int(e["value"]["seq"]) for e in _acks(journal)]
    try:
        journal.record("cache.reconcile", "runner", reconcile_cache(watch.url, watch.run_id, acked))
    except Exception as exc:  # noqa: BLE001 - no reconciliation: the cache targets are unmeasured
        journal.record("cache.reconcile_failed", "runner", {}, error=_short(exc))


def _acks(journal: Journal) -> list[dict[str, Any]]:
    from gameday.journal import read_journal

    return [{"value": e.value} for e in read_journal(journal.path) if e.kind == "cache.ack"]
