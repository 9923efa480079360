"""Every failure has a reason: the probe and the built-in load against small loopback services that are not
gameday's (``tests/services/pipeline.py``) that refuse a token, are down, or answer a read late; the reasons
are journaled aggregated (about one ``failures`` event per second per source), not one per failed request."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from gameday.drill.workload import Workload
from gameday.journal import Journal, read_journal
from gameday.lab.ingest_api import LAB_SERVICE
from gameday.reasons import failure_cause, top_reasons
from gameday.service.ids import IdScheme
from gameday.service.resolved import Service
from gameday.service.spec import ServiceSpec
from gameday.synthetic import ProbeAnswer, write_then_read

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from pipeline import PipelineService  # noqa: E402

TOKEN = "tok-9a7b3c"


def _service(url: str, *, token: str | None = None, within_s: float = 0.0) -> Service:
    spec = LAB_SERVICE.model_dump()
    spec["read"]["within_s"] = within_s
    if token:
        spec["headers"] = {"Authorization": f"Bearer {token}"}
    return Service.resolve(ServiceSpec.model_validate(spec), url=url)


def _probe(svc: Service, n: int = 0) -> ProbeAnswer:
    async def once() -> ProbeAnswer:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as s:
            return await write_then_read(s, svc, IdScheme("t1p"), n, "t1")
    return asyncio.run(once())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_wrong_token_is_named_with_what_the_service_answered():
    with PipelineService(token=TOKEN) as svc:
        a = _probe(_service(svc.url, token="not-the-token"))
        b = _probe(_service(svc.url, token=TOKEN))
    assert not a.ok and a.error == "write: HTTP 401"
    assert a.reason == 'write: HTTP 401: {"message": "invalid token"}'
    assert b.ok and b.reason is None


def test_a_service_that_is_down_is_named_as_refused():
    a = _probe(_service(f"http://127.0.0.1:{_closed_port()}"))
    assert not a.ok and a.reason is not None and a.reason.startswith("write: ClientConnectorError")
    assert failure_cause(a.reason) == "refused"


def test_an_asynchronous_read_back_fails_without_within_s_and_passes_with_it():
    with PipelineService(read_lag_s=0.3) as svc:
        eager = _probe(_service(svc.url), 1)
        patient = _probe(_service(svc.url, within_s=2), 2)
        short = _probe(_service(svc.url, within_s=0.1), 3)
    assert not eager.ok and eager.reason == 'read: HTTP 404: {"message": "not indexed yet"}' and eager.reads == 1
    assert patient.ok and patient.reads > 1, "asked again until the pipeline caught up"
    assert not short.ok and short.error == "read: HTTP 404", "within_s bounds the polling"


def test_the_workload_journals_each_failure_class_aggregated_with_exact_counts(tmp_path):
    j = Journal(tmp_path / "journal.jsonl", fsync=False)
    with PipelineService(token=TOKEN) as svc:
        w = Workload(service=_service(svc.url, token="wrong"), run_id="r1", journal=j, ledger=tmp_path / "ledger.txt",
                     rate=50, batch=1, probe_interval_s=0.05, probe_timeout_s=1, max_s=30)
        w.start()
        time.sleep(2.6)
        w.stop()
    j.close()
    events = read_journal(j.path)
    probes = [e for e in events if e.kind == "probe"]
    ticks = [e for e in events if e.kind == "load.tick"]
    failures = [e for e in events if e.kind == "failures"]
    assert probes and all(not p.value["ok"] and p.error == "write: HTTP 401" for p in probes)
    by_source = {r["source"]: r for r in top_reasons(events)}
    assert by_source["probe"]["count"] == len(probes) and by_source["probe"]["reason"].endswith("invalid token\"}")
    # every refused write is tallied (the ticks cover whole seconds only: the last partial one is not in them)
    assert by_source["load"]["count"] >= sum(t.value["errors"] for t in ticks) > 0
    assert by_source["load"]["reason"] == 'write: HTTP 401: {"message": "invalid token"}'
    per_source = {s: sum(1 for e in failures if e.value["source"] == s) for s in ("probe", "load")}
    assert per_source["probe"] <= 4 < len(probes), "about one failures event per second, not one per failure"


@pytest.mark.parametrize("text, cause", [
    ("OperationalError: connection failed: FATAL:  sorry, too many clients already", "too many connections"),
    ("OperationalError: connection is bad: Connection refused", "refused"),
    ("DriverError: no DB instance is primary", "no primary"),
    ("ConnectionTimeout: connection timeout expired", "timed out"),
    ("ValueError: something else", "error"),
])
def test_a_failure_text_is_named_by_its_cause(text, cause):
    assert failure_cause(text) == cause


def test_a_tls_connection_error_reads_as_what_happened_without_the_ssl_contexts_address():
    import ssl

    from aiohttp import ClientConnectorError
    from aiohttp.client_reqrep import ConnectionKey

    from gameday.reasons import exc_reason

    def refused(context: object) -> str:
        key = ConnectionKey("127.0.0.1", 44403, True, context, None, None, None)  # type: ignore[arg-type]
        return exc_reason("write", ClientConnectorError(key, ConnectionResetError(104, "Connection reset by peer")))

    a, b = refused(ssl.create_default_context()), refused(ssl.create_default_context())
    assert a == b == "write: ClientConnectorError: Cannot connect to host 127.0.0.1:44403 (TLS) " \
                     "[Connection reset by peer]", "one cause, one reason: no per-process address in it"
