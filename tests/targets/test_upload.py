"""`drill run --upload s3://bucket/prefix`: every run's journal, ledger and reports under its own folder on
moto's S3 (over HTTP), and `gameday report` / `gameday history` reading them back from there."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from fakekit import _run
from gameday.api.upload import parse_s3_url, upload_run
from gameday.cli import main
from gameday.errors import ConfigError
from gameday.targets.fake import FakeTarget


def _main(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return int(info.value.code or 0), capsys.readouterr().out


def test_uploaded_runs_are_read_back_by_report_and_history(moto, tmp_path, monkeypatch, capsys):
    boto3.client("s3").create_bucket(Bucket="dr-drills")
    urls = []
    for i in range(2):  # two monthly runs: two folders under the prefix, nothing overwritten
        run_dir = tmp_path / f"run{i}"
        run_dir.mkdir()
        summary = _run(run_dir, FakeTarget(lag_s=0.1), operator="monthly-cronjob")
        assert summary["verdict"] == "pass"
        urls.append(upload_run(run_dir / "out", parse_s3_url("s3://dr-drills/monthly/")))
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="dr-drills")["Contents"]]
    folders = {k.split("/")[1] for k in keys}
    assert len(folders) == 2 and all(k.startswith("monthly/fake-region-failover-") for k in keys)
    for name in ("journal.jsonl", "ledger.txt", "report.json", "report.html", "report.md", "junit.xml"):
        assert sum(k.endswith("/" + name) for k in keys) == 2, name

    monkeypatch.chdir(tmp_path)  # the downloaded copies go to ./.gameday/s3
    journal_url = next(u for u in urls[0] if u.endswith("journal.jsonl"))
    code, out = _main(["report", journal_url, "--json", "--out", str(tmp_path / "again")], capsys)
    again = json.loads(out)
    original = json.loads((tmp_path / "run0" / "out" / "report.json").read_text())
    assert code == 0 and again["verdict"] == "pass"
    assert (again["rto_s"], again["rpo_s"], again["events_lost"]) == (original["rto_s"], original["rpo_s"],
                                                                      original["events_lost"])
    code, out = _main(["history", "s3://dr-drills/monthly", "--json", "--out", str(tmp_path / "hist")], capsys)
    history = json.loads(out)
    (group,) = history["groups"]
    assert code == 0 and group["name"] == "fake-region-failover" and len(group["runs"]) == 2
    assert {r["verdict"] for r in group["runs"]} == {"pass"} and not history["malformed"]
    assert {r["operator"] for r in group["runs"]} == {"monthly-cronjob"}  # who ran it, from the journal


def test_the_iam_policy_for_an_upload_allows_exactly_its_prefix(tmp_path):
    import fnmatch
    from pathlib import Path

    from gameday.config import load_environment
    from gameday.targets.aws.iam import iam_policy

    env = load_environment(Path(__file__).resolve().parents[2] / "environments" / "aws-staging.example.yaml")
    assert env.aws is not None
    policy = iam_policy(env.aws, parse_s3_url("s3://dr-drills/monthly"))
    put = next(s for s in policy["Statement"] if "s3:PutObject" in s["Action"])
    assert fnmatch.fnmatch("arn:aws:s3:::dr-drills/monthly/region-failover-20261201T100000Z-ab12/journal.jsonl",
                           put["Resource"])
    assert not fnmatch.fnmatch("arn:aws:s3:::dr-drills/other/journal.jsonl", put["Resource"])
    assert "s3:DeleteObject" not in str(policy) and all("s3" not in str(s) for s in iam_policy(env.aws)["Statement"])


def test_an_upload_to_a_missing_bucket_names_it(moto, tmp_path):
    _run(tmp_path, FakeTarget())
    with pytest.raises(Exception, match="s3://no-such-bucket/x/"):
        upload_run(tmp_path / "out", ("no-such-bucket", "x"))


@pytest.mark.parametrize("url", ["bucket/prefix", "s3://", "s3:///prefix", "https://bucket/prefix"])
def test_malformed_upload_urls_are_usage_errors(url):
    with pytest.raises(ConfigError, match="--upload"):
        parse_s3_url(url)


def test_a_failed_upload_shows_the_verdict_first_then_the_error_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    """The monthly CronJob's run passed, but its output could not be kept: the verdict is still printed, the
    error names the bucket and the local folder, and the exit code is not 0 (the record is not safe)."""
    import gameday.cli.drill as cli_drill
    from gameday.errors import DriverError

    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the drill's profile path is relative to the checkout
    monkeypatch.setattr(cli_drill, "run_drill", lambda *a, **k: {
        "verdict": "pass", "drill": "region-failover", "steps": [], "targets": [], "reasons": [], "rto_s": 2.2,
        "rpo_s": 0.05, "events_acked": 10, "events_lost": 0, "events_indeterminate": 0})

    def refused(out_dir, destination, aws=None):
        raise DriverError(f"upload of journal.jsonl to s3://{destination[0]}/{destination[1]}/ failed: AccessDenied")
    monkeypatch.setattr(cli_drill, "upload_run", refused)
    drill = Path(__file__).resolve().parents[2] / "drills" / "region-failover.yaml"
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(drill), "--auto-confirm", "0", "--out", str(tmp_path / "out"),
              "--upload", "s3://dr-drills/monthly"])
    captured = capsys.readouterr()
    assert "PASS" in captured.out and "RTO 2.2 s" in captured.out, captured
    assert "AccessDenied" in captured.err and str(tmp_path / "out") in captured.err
    assert info.value.code == 1


def test_the_upload_goes_through_the_environments_session_not_the_default_one(moto, tmp_path, monkeypatch):
    """The environment names a profile this machine lacks: the default chain would have uploaded, the
    environment's session refuses, naming the field."""
    from gameday.config import load_environment
    from targets.conftest import environment_yaml

    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "journal.jsonl").write_text('{"kind": "drill.start", "value": {"drill": "d", "run_id": "r"}}\n')
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml({"zone_id": "Z1"}, extra="  profile: staging-drill\n"))
    aws = load_environment(env).aws
    with pytest.raises(ConfigError, match="profile 'staging-drill'"):
        upload_run(tmp_path / "out", ("bucket", "runs"), aws)
    boto3.client("s3").create_bucket(Bucket="bucket")
    assert upload_run(tmp_path / "out", ("bucket", "runs"))  # without an environment: the default chain
