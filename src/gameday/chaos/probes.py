"""Chaos Toolkit probes: steady-state measurements through the public endpoint, the lab status and the
database, on the Target the environment names."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.session import session_for
from gameday.drill.reconcile import reconcile
from gameday.drill.store import holding_dsn
from gameday.load.recent import service_breach
from gameday.load.run import recent_window
from gameday.service.ids import IdScheme
from gameday.service.resolved import Service
from gameday.synthetic import ProbeAnswer, write_then_read_once

__all__ = ["ingest_slo_met", "writes_succeed", "cache_writes_succeed", "zone_serving", "replication_lag_s",
           "acked_events_present", "spot_capacity_restored"]


_PROBE_RUN = f"chaos{uuid.uuid4().hex[:8]}"
_probe_seq = iter(range(1, 1 << 62))


def _write_then_read(svc: Service, timeout: float = 2.0) -> tuple[ProbeAnswer, float]:
    """One synthetic transaction as the service description says (the drill's probe, from sync code)."""
    ids = IdScheme(f"{_PROBE_RUN}p", uuid=svc.uses_uuid)
    return write_then_read_once(svc, ids, next(_probe_seq), _PROBE_RUN, timeout)


def writes_succeed(n: int = 5, within_s: float = 0.0, configuration: Configuration = None,
                   secrets: Secrets = None) -> bool:
    """True once ``n`` consecutive synthetic write-then-read transactions succeed through the public
    endpoint, trying for at most ``within_s`` real seconds (scaled by the environment's time_scale)."""
    s = session_for(configuration)
    svc = s.target.service()
    failed: list[ProbeAnswer] = []

    def transaction(seq: int) -> bool:
        answer = _write_then_read(svc)[0]
        if not answer.ok:
            failed.append(answer)
        return answer.ok
    ok = _streak(transaction, n, within_s * s.environment.time_scale)
    last = failed[-1] if failed else None
    what = f"{len(failed)} transaction(s) failed, the last: {last.reason or last.error}" if last else "all answered"
    return _measured(s, "writes_succeed", ok, what)


def _streak(transaction: Callable[[int], bool], n: int, within_s: float) -> bool:
    """True once ``n`` consecutive transactions succeed; False when one fails after ``within_s`` (bounded)."""
    deadline = time.monotonic() + within_s
    streak, seq = 0, 0
    while True:
        seq += 1
        ok = transaction(seq)
        streak = streak + 1 if ok else 0
        if streak >= n:
            return True
        if time.monotonic() >= deadline and not ok:
            return False
        time.sleep(0.1)


def _cache_write_then_read(url: str, n: int, timeout: float = 0.5) -> bool:
    import valkey

    key = f"gameday:chaos:{_PROBE_RUN}:{n}"
    try:  # a fresh connection each time: the primary endpoint drops them when the primary changes
        with valkey.Valkey.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                    decode_responses=True) as c:
            return bool(c.set(key, "1", ex=60)) and c.get(key) == "1"
    except Exception:  # noqa: BLE001 - any client error: this transaction failed
        return False


def cache_writes_succeed(n: int = 5, within_s: float = 0.0, configuration: Configuration = None,
                         secrets: Secrets = None) -> bool:
    """True once ``n`` consecutive SET-then-GET transactions succeed through the cache's primary endpoint (the
    service's ``cache:`` or the environment's), trying for at most ``within_s`` real seconds (time_scale)."""
    s = session_for(configuration)
    url = s.target.service().cache_url or s.target.cache_url()
    if url is None:
        raise ActivityFailed("the environment has no cache to probe (no service cache: section, no cache tier)")
    return _streak(lambda seq: _cache_write_then_read(url, seq), n, within_s * s.environment.time_scale)


def _measured(s: Any, func: str, ok: bool, what: str, uncertain: str | None = None) -> bool:
    """Journal what a probe measured (the verdict names it beside a deviation: ``got False`` alone says nothing
    about what the service answered); returns ``ok``. ``uncertain``: why a failed measurement may not be the
    service's (the verdict is then INCONCLUSIVE unless something else failed)."""
    if s.journal is not None:
        s.journal.record("probe.measured", "chaos", {"func": func, "ok": ok, "what": what,
                                                     **({"uncertain": uncertain} if uncertain and not ok else {})})
    return ok


def ingest_slo_met(p95_ms: float = 300.0, max_error_ratio: float = 0.001, window_s: float = 3.0,
                   configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """True when ingest met its SLO over the last ``window_s`` seconds of the background load (or, with no
    load running, over a burst of 20 synthetic transactions)."""
    s = session_for(configuration)
    load = s.current_load()
    uncertain = None
    if load is not None:
        w = recent_window(load.progress, window_s)
        if w is None:
            raise ActivityFailed("the background load has not measured anything yet")
        p95, ratio, over = w["p95_ms"], w["error_ratio"], f"the load's last {window_s:g} s ({w['sent']} requests)"
        if ratio <= max_error_ratio and p95 > p95_ms and not service_breach(w, p95_ms):
            uncertain = f"the generator limited that window ({w['limited']}): the p95 may be the generator's"
    else:
        results = [(a.ok, d) for a, d in (_write_then_read(s.target.service()) for _ in range(20))]
        lat = sorted(d * 1000 for _, d in results)
        p95, ratio, over = lat[int(0.95 * (len(lat) - 1))], sum(1 for ok, _ in results if not ok) / len(results), \
            "20 synthetic transactions"
    ok = p95 <= p95_ms and ratio <= max_error_ratio
    return _measured(s, "ingest_slo_met", ok, f"p95 {p95:.0f} ms (SLO {p95_ms:g}), failed {100 * ratio:.2f} % "
                     f"(SLO {100 * max_error_ratio:g} %) over {over}", uncertain=uncertain)


def zone_serving(zone: str, configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """True when at least one healthy ingest node serves in ``zone`` (a lab process; on AWS an EKS node that
    is Ready, or a running tagged instance whose subnet no gameday NACL cuts off)."""
    return bool(session_for(configuration).target.status().healthy_nodes(zone=zone))


def _spot_per_zone(env: Any) -> int:
    if env.lab is not None:
        return int(env.lab.nodes.spot_per_zone)
    if env.aws is not None and env.aws.spot_nodes_per_zone is not None:
        return int(env.aws.spot_nodes_per_zone)
    raise ActivityFailed("spot_capacity_restored needs the spot nodes expected per zone: set aws.spot_nodes_per_zone "
                         "in the environment")


def spot_capacity_restored(within_s: float = 0.0, configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """True when every primary-region zone has as many healthy spot nodes as the environment configures
    (``lab.nodes.spot_per_zone``, ``aws.spot_nodes_per_zone``), looking for at most ``within_s`` real seconds
    (scaled by the environment's time_scale): replacements take a while, on AWS and on a busy laptop alike."""
    s = session_for(configuration)
    want = _spot_per_zone(s.environment)

    def restored(_: int) -> bool:
        st = s.target.status()
        zones = [z for z in st.zones if z.startswith(st.primary_region)]
        return all(len(st.healthy_nodes(zone=z, capacity_type="spot")) >= want for z in zones)
    return _streak(restored, 1, within_s * s.environment.time_scale)


def replication_lag_s(replica: str = "us-west-2", configuration: Configuration = None,
                      secrets: Secrets = None) -> float:
    """How far the replica in region or zone ``replica`` trails the primary, in seconds of data: the last
    heartbeat the primary acknowledged minus the last one present on the replica (the experiment's heartbeat,
    every 100 ms through the primary's writer). Replication measured by the data, like the drill's RPO, never
    "time since the last replayed write" (which grows on an idle source)."""
    import psycopg

    from gameday.drill.store import heartbeat_stats

    s = session_for(configuration)
    hb = s.heartbeat
    if hb is None:
        raise ActivityFailed("the experiment has no heartbeat (run it with the gameday control)")
    st, svc = s.target.status(), s.target.service()
    db = next((d for d in st.dbs if replica in (d.region, d.zone, d.name) and d.role != "down"), None)
    if db is None or (db.port is None and s.environment.kind == "local"):
        raise ActivityFailed(f"no running database matches {replica!r}")
    dsn = (f"host=127.0.0.1 port={db.port} user=postgres dbname=postgres" if s.environment.kind == "local"
           else svc.store_dsn_for(db.region) or s.target.writer_dsn(db.region))
    deadline = time.monotonic() + 10  # the experiment's first heartbeats may still be on their way
    while True:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as c:
            _, present, _ = heartbeat_stats(c, svc.spec.heartbeat_table, hb.run_id)
        if hb.last_ack_ts is not None and present is not None:
            return round(max(0.0, hb.last_ack_ts - present), 3)
        if time.monotonic() > deadline:
            raise ActivityFailed(f"none of this experiment's heartbeats reached {db.name} within 10 s")
        time.sleep(0.1)


def acked_events_present(configuration: Configuration = None, secrets: Secrets = None) -> int:
    """How many events the background load saw acknowledged are missing from the current primary (0: none
    lost). Stops the load first so its ledger is complete; with no load, 0."""
    s = session_for(configuration)
    load = s.current_load()
    if load is None:
        return 0
    load.stop()
    if not load.ledger.exists():
        raise ActivityFailed("the background load left no ledger")
    svc = s.target.service()
    if svc.spec.store is None:
        raise ActivityFailed("lost events cannot be counted: the service description has no store: section "
                             "(service.store.present_query)")
    result: dict[str, Any] = reconcile(holding_dsn(svc, s.target), load.ledger, "none", service=svc, t_fault=None)
    return int(result["events_lost"])
