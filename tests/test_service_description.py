"""The service description without a lab: templates, placeholders, ${VAR}, ids, the ledger, the requests
the engine sends (its HTTP/TLS exchanges: tests/load/test_reactor.py)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml

from gameday.cli import main
from gameday.config import check_service, load_environment
from gameday.errors import ConfigError
from gameday.load.payloads import Payloads
from gameday.service.ids import IdScheme, ack_times, read_ledger
from gameday.service.resolved import Service
from gameday.service.spec import ServiceSpec

ROOT = Path(__file__).resolve().parents[1]

SPEC = {
    "url": "https://ingest.example.com",
    "headers": {"Authorization": "Bearer ${TEST_INGEST_TOKEN}"},
    "write": {"method": "POST", "path": "/api/v2/positions", "body": '{"positions":[{{events}}],"sent":"{{iso_ts}}"}',
              "event": '{"id":"{{event_uuid}}","n":{{seq}},"ts":{{ts}}}', "ok": [201]},
    "read": {"path": "/api/v2/positions/{{event_uuid}}"},
    "store": {"present_query": "SELECT id::text FROM p WHERE id = ANY(%(ids)s::uuid[])"},
}


def _env_file(tmp: Path, service: dict) -> Path:
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    env["service"] = service
    path = tmp / "env.yaml"
    path.write_text(yaml.safe_dump(env))
    return path


def _resolve(spec: dict = SPEC) -> Service:
    return Service.resolve(ServiceSpec.model_validate(spec), url=None)


def test_a_description_renders_the_teams_own_request(monkeypatch):
    monkeypatch.setenv("TEST_INGEST_TOKEN", "tok-123")
    svc = _resolve()
    ids = IdScheme("run1w0", uuid=svc.uses_uuid)
    body = json.loads(svc.write_body(ids, 41, 2, 1700000000.5, "run1"))
    assert [p["n"] for p in body["positions"]] == [41, 42] and body["sent"].endswith("Z")
    assert uuid.UUID(body["positions"][0]["id"]).version == 4 and body["positions"][1]["id"] == ids.event_uuid(42)
    assert int(body["positions"][1]["id"][-12:], 16) == 42, "a UUID maps back to its counter"
    assert svc.request_headers("run1")["Authorization"] == "Bearer tok-123"
    assert svc.read_target(ids, 41, "run1") == f"/api/v2/positions/{ids.event_uuid(41)}"
    assert svc.redact("GET with Bearer tok-123 failed") == "GET with Bearer *** failed"


def test_the_engines_pre_encoded_request_is_the_same_request(monkeypatch):
    monkeypatch.setenv("TEST_INGEST_TOKEN", "tok-123")
    svc = _resolve()
    p = Payloads(svc, IdScheme("run1w0", uuid=True), 3, "run1")
    assert (p.port, p.tls, p.host) == (443, True, "ingest.example.com"), "https without a port is 443, over TLS"
    head, _, body = p.request(7).partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/v2/positions HTTP/1.1\r\nHost: ingest.example.com\r\n")
    assert b"Authorization: Bearer tok-123" in head and f"Content-Length: {len(body)}".encode() in head
    assert [x["n"] for x in json.loads(body)["positions"]] == [7, 8, 9]


@pytest.mark.parametrize("change, field, message", [
    (("write", "event", '{"id":"{{event_id}}","x":"{{vehicle}}"}'), "service.write.event", "unknown placeholder {{vehicle}}"),
    (("write", "body", '{"positions":[{{events}}]'), "service.write.body", "not valid JSON once filled"),
    (("headers", "Authorization", "Bearer ${NO_SUCH_TOKEN_VAR}"), "service.headers.Authorization",
     "${NO_SUCH_TOKEN_VAR} is not set"),
    (("store", "present_query", "SELECT id FROM p"), "service.store.present_query", "%(ids)s"),
    (("url", None, "ftp://ingest.example.com"), "service.url", "not an http:// or https:// URL"),
])
def test_a_bad_description_is_refused_naming_file_and_field(change, field, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TEST_INGEST_TOKEN", "tok-123")
    spec = json.loads(json.dumps(SPEC))
    section, key, value = change
    if key is None:
        spec[section] = value
    else:
        spec[section][key] = value
    env = _env_file(tmp_path, spec)
    with pytest.raises(ConfigError) as info:  # the file's shape when it loads; ${VAR} before anything runs
        check_service(load_environment(env), env)
    assert str(env) in str(info.value) and (field in str(info.value) or "present_query" in str(info.value))
    assert message in str(info.value)
    with pytest.raises(SystemExit) as code:  # and from the command line: exit 2, one line, nothing started
        main(["load", "gate", str(ROOT / "loadprofiles" / "ingest_steady.py"), "--env", str(env), "--slo", "p95<1s",
              "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "lab")])
    assert code.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "lab").exists()


def test_the_ledger_records_uuid_and_id_runs_with_their_times(tmp_path):
    path = tmp_path / "ledger.txt"
    a, b = IdScheme("r1w0", uuid=True), IdScheme("r1b")
    path.write_text(a.ledger_line("a", 0, 3, 100.05) + a.ledger_line("i", 3, 1, 100.1) + b.ledger_line("f", 9, 2))
    book = read_ledger(path)
    assert book["a"] == {a.event_uuid(n) for n in range(3)} and book["i"] == {a.event_uuid(3)}
    assert book["f"] == {b.event_id(9), b.event_id(10)}
    assert ack_times(path) == dict.fromkeys(sorted(book["a"]), 100.05)


def test_a_cache_section_gives_the_drill_its_cache_url_with_the_token_from_the_environment_and_hides_it(monkeypatch):
    monkeypatch.setenv("TEST_INGEST_TOKEN", "tok-123")
    monkeypatch.setenv("TEST_CACHE_TOKEN", "c@che/secret")
    svc = _resolve({**SPEC, "cache": {"url": "redis://master.sessions.use1.cache.amazonaws.com:6380", "tls": True,
                                      "auth_token": "${TEST_CACHE_TOKEN}"}})
    assert svc.cache_url == "rediss://:c%40che%2Fsecret@master.sessions.use1.cache.amazonaws.com:6380"
    assert "c@che/secret" not in svc.redact("AUTH c@che/secret refused"), "the token is a secret like any ${VAR}"
    assert _resolve(SPEC).cache_url is None, "no cache: section, the environment's cache is watched"


@pytest.mark.parametrize("cache, field", [
    ({"url": "http://cache:6379"}, "service.cache.url"),
    ({"url": "redis://cache:6379", "auth_token": "${TEST_UNSET_CACHE_TOKEN}"}, "service.cache.auth_token"),
    ({"url": "redis://cache:6379", "password": "x"}, "service.cache.password"),
])
def test_a_bad_cache_section_is_refused_naming_file_and_field(tmp_path, capsys, monkeypatch, cache, field):
    monkeypatch.setenv("TEST_INGEST_TOKEN", "tok-123")
    monkeypatch.delenv("TEST_UNSET_CACHE_TOKEN", raising=False)
    path = _env_file(tmp_path, {**SPEC, "cache": cache})
    with pytest.raises(ConfigError) as info:  # the file's shape when it loads; ${VAR} before anything runs
        check_service(load_environment(path), path)
    assert str(path) in str(info.value) and field in str(info.value), str(info.value)
