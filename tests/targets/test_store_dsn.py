"""Which database each side of the measurement uses: the heartbeat the primary region's writer, the
reconciliation the database holding the writes now; ``service.store.dsn`` one DSN (it follows the writer)
or one per region; without it, the Target's endpoints."""

from __future__ import annotations

import pytest

from gameday.config import load_environment
from gameday.drill.store import heartbeat_dsn, holding_dsn
from gameday.errors import ConfigError
from gameday.service.resolved import Service
from gameday.targets.fake import FAKE_SERVICE, FakeTarget

PER_REGION = {"us-east-1": "host=proxy-use1 dbname=ingest", "us-west-2": "host=proxy-usw2 dbname=ingest"}


def _service(dsn: str | dict[str, str] | None) -> Service:
    spec = FAKE_SERVICE.model_copy(update={"store": FAKE_SERVICE.store.model_copy(update={"dsn": dsn})})
    return Service.resolve(spec, url="http://127.0.0.1:9")


def test_per_region_dsns_heartbeat_on_the_primary_reconciliation_on_the_promoted_region():
    t, svc = FakeTarget(), _service(PER_REGION)
    assert heartbeat_dsn(svc, t) == "host=proxy-use1 dbname=ingest"
    assert holding_dsn(svc, t) == "host=proxy-use1 dbname=ingest"
    t.fail_region("us-east-1")
    t.promote_dr_db()
    assert heartbeat_dsn(svc, t) == "host=proxy-use1 dbname=ingest", "the heartbeat keeps measuring the lost region"
    assert holding_dsn(svc, t) == "host=proxy-usw2 dbname=ingest"


def test_one_dsn_follows_the_writer_and_none_falls_back_to_the_target():
    t = FakeTarget()
    t.promote_dr_db()
    one = _service("host=global-writer.example dbname=ingest")
    assert heartbeat_dsn(one, t) == holding_dsn(one, t) == "host=global-writer.example dbname=ingest"
    none = _service(None)
    assert heartbeat_dsn(none, t) == "fake://writer/us-east-1"
    assert holding_dsn(none, t) == "fake://primary/us-west-2"


def test_a_store_dsn_for_a_region_the_environment_does_not_have_is_refused(tmp_path):
    from conftest import ROOT

    text = (ROOT / "environments" / "aws-staging.example.yaml").read_text()
    text = text.replace("    settle_s: 10\n", "    settle_s: 10\n    dsn: {us-east-1: 'host=a', eu-west-1: 'host=b'}\n")
    env = tmp_path / "aws.yaml"
    env.write_text(text)
    with pytest.raises(ConfigError, match=r"service\.store\.dsn\.eu-west-1: unknown region 'eu-west-1'") as info:
        load_environment(env)
    assert info.value.exit_code == 2
