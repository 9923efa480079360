"""Every command with a malformed argument: exit 2, one line on stderr naming what was wrong, no traceback,
and nothing started (no lab state, no journal, no output directory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gameday.cli import main

ROOT = Path(__file__).resolve().parents[1]
PROFILE = str(ROOT / "loadprofiles" / "ingest_steady.py")
AWS_ENV = str(ROOT / "environments" / "aws-staging.example.yaml")
DRILL = str(ROOT / "drills" / "region-failover.yaml")
EXPERIMENT = ROOT / "experiments" / "az-outage.yaml"


def _experiment(tmp: Path, change: str) -> str:
    exp = yaml.safe_load(EXPERIMENT.read_text())
    method = exp["method"]
    if change == "mode":
        method[1]["provider"]["arguments"]["mode"] = "obliterate"
    elif change == "zone":
        method[1]["provider"]["arguments"]["zone"] = "us-east-1z"
    elif change == "rate":
        method[0]["provider"]["arguments"]["rate"] = -100
    path = tmp / f"bad-{change}.yaml"
    path.write_text(yaml.safe_dump(exp))
    return str(path)


def _drill(tmp: Path, fault: str) -> str:
    text = Path(DRILL).read_text().replace("../environments/", f"{ROOT}/environments/").replace(
        "../runbooks/", f"{ROOT}/runbooks/").replace('fault: {action: fail_region, args: {region: "{primary_region}"}}',
                                                      fault)
    path = tmp / "bad-drill.yaml"
    path.write_text(text)
    return str(path)


def _drill_elsewhere(tmp: Path) -> str:
    """The region drill as written, its load profile relative to a folder the command is not run from."""
    text = Path(DRILL).read_text().replace("../environments/", f"{ROOT}/environments/").replace(
        "../runbooks/", f"{ROOT}/runbooks/").replace("loadprofiles/ingest_steady.py", "loadprofiles/not-here.py")
    path = tmp / "elsewhere.yaml"
    path.write_text(text)
    return str(path)


def _aws_env_with_profile(tmp: Path) -> str:
    env = yaml.safe_load(Path(AWS_ENV).read_text())
    env["aws"]["profile"] = "no-such-profile-anywhere"
    env["protected"] = False
    path = tmp / "aws.yaml"
    path.write_text(yaml.safe_dump(env))
    return str(path)


def _protected_lab_drill(tmp: Path) -> str:
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    env["protected"] = True
    (tmp / "protected.yaml").write_text(yaml.safe_dump(env))
    text = Path(DRILL).read_text().replace("../environments/local.yaml", str(tmp / "protected.yaml")).replace(
        "../runbooks/", f"{ROOT}/runbooks/")
    path = tmp / "protected-drill.yaml"
    path.write_text(text)
    return str(path)


def _not_a_journal(tmp: Path) -> str:
    path = tmp / "notes.jsonl"
    path.write_text('{"hello": "world"}\n')
    return str(path)


def _stock_locustfile(t: Path) -> str:
    (t / "stock.py").write_text("from locust import FastHttpUser, task\n\nclass U(FastHttpUser):\n"
                                "    @task\n    def t(self):\n        self.client.get('/')\n")
    return str(t / "stock.py")


def _not_empty(t: Path) -> str:
    (t / "mine").mkdir()
    (t / "mine" / "notes.txt").write_text("mine")
    return str(t / "mine")


def _not_python(t: Path) -> str:
    (t / "notes.py").write_text("this is not python (\n")
    return str(t / "notes.py")


# (id, argv builder, a word the error line must contain)
CASES = [
    ("no-command", lambda t: [], "command"),
    ("unknown-option", lambda t: ["--bogus"], "--bogus"),
    ("unknown-command", lambda t: ["obliterate"], "obliterate"),
    ("missing-argument", lambda t: ["drill", "run"], "DRILL"),
    ("delay-link-abc", lambda t: ["lab", "fault", "delay-link", "abc"], "valid number"),
    ("delay-link-negative", lambda t: ["lab", "fault", "delay-link", "--", "-5"], "ms"),
    ("spot-count-99", lambda t: ["lab", "fault", "interrupt-spot", "--count", "99"], "count"),
    ("spot-count-0", lambda t: ["lab", "fault", "interrupt-spot", "--count", "0"], "count"),
    ("fail-zone-unknown", lambda t: ["lab", "fault", "fail-zone", "us-east-1z"], "us-east-1z"),
    ("fail-region-unknown", lambda t: ["lab", "fault", "fail-region", "eu-west-9"], "eu-west-9"),
    ("lab-up-missing-env", lambda t: ["lab", "up", "--env", str(t / "nope.yaml")], "nope.yaml"),
    ("plan-without-env", lambda t: ["plan", DRILL], "--env"),
    ("plan-on-the-lab", lambda t: ["plan", DRILL, "--env", str(ROOT / "environments" / "local.yaml")], "aws"),
    ("plan-unknown-aws-profile", lambda t: ["plan", DRILL, "--env", _aws_env_with_profile(t)], "profile"),
    ("dashboards-push-without-url", lambda t: ["dashboards", "push"], "--grafana-url"),
    ("gate-negative-rate", lambda t: ["load", "gate", PROFILE, "--rate", "-100", "--slo", "p95<300ms"], "--rate"),
    ("gate-bad-slo", lambda t: ["load", "gate", PROFILE, "--slo", "p95 under 300"], "p95 under 300"),
    ("gate-bad-scheme", lambda t: ["load", "gate", PROFILE, "--host", "ftp://x", "--slo", "p95<1s"], "--host"),
    ("load-batch-0", lambda t: ["load", "run", PROFILE, "--batch", "0"], "--batch"),
    ("load-missing-profile", lambda t: ["load", "run", str(t / "nope.py")], "nope.py"),
    ("load-plan-negative-rate", lambda t: ["load", "plan", "--rate", "-5"], "--rate"),
    ("load-plan-rate-nan", lambda t: ["load", "plan", "--rate", "nan"], "--rate"),
    ("load-plan-rate-inf", lambda t: ["load", "plan", "--rate", "inf"], "--rate"),
    ("gate-rate-inf", lambda t: ["load", "gate", PROFILE, "--rate", "inf", "--slo", "p95<300ms"], "--rate"),
    ("gate-duration-inf", lambda t: ["load", "gate", PROFILE, "--duration", "inf", "--slo", "p95<300ms"], "--duration"),
    ("load-plan-batch-0", lambda t: ["load", "plan", "--rate", "1000", "--batch", "0"], "--batch"),
    ("load-plan-latency-0", lambda t: ["load", "plan", "--rate", "1000", "--latency", "0ms"], "--latency"),
    ("load-plan-latency-unitless", lambda t: ["load", "plan", "--rate", "1000", "--latency", "400"], "--latency"),
    ("load-plan-max-connections-0", lambda t: ["load", "plan", "--rate", "1000", "--max-connections", "0"],
     "--max-connections"),
    ("gate-max-connections-0", lambda t: ["load", "gate", PROFILE, "--max-connections", "0", "--slo", "p95<1s"],
     "--max-connections"),
    ("gate-service-headers-on-gamedays-users", lambda t: ["load", "gate", PROFILE, "--service-headers",
                                                          "--slo", "p95<1s"], "--service-headers"),
    ("gate-closed-model-hard-limit", lambda t: ["load", "gate", _stock_locustfile(t), "--hard-limit", "p95<1s",
                                                "--slo", "p95<1s"], "--hard-limit"),
    ("gate-profile-not-python", lambda t: ["load", "gate", _not_python(t), "--slo", "p95<1s"], "notes.py"),
    ("chaos-validate-mode", lambda t: ["chaos", "validate", _experiment(t, "mode")], "mode"),
    ("chaos-validate-zone", lambda t: ["chaos", "validate", _experiment(t, "zone")], "us-east-1z"),
    ("chaos-validate-rate", lambda t: ["chaos", "validate", _experiment(t, "rate")], "rate"),
    ("chaos-run-mode", lambda t: ["chaos", "run", _experiment(t, "mode")], "mode"),
    ("chaos-run-rate", lambda t: ["chaos", "run", _experiment(t, "rate")], "rate"),
    ("drill-run-missing", lambda t: ["drill", "run", str(t / "nope.yaml")], "nope.yaml"),
    ("drill-run-unknown-zone", lambda t: ["drill", "run", _drill(t, "fault: {action: fail_zone, args: {zone: q}}")],
     "fault.args"),
    ("drill-validate-bad-count", lambda t: ["drill", "validate",
                                            _drill(t, "fault: {action: interrupt_spot, args: {count: 0}}")], "count"),
    ("drill-run-metrics-port", lambda t: ["drill", "run", DRILL, "--metrics-port", "99999"], "--metrics-port"),
    ("drill-run-protected", lambda t: ["drill", "run", DRILL, "--env", AWS_ENV], "--confirm"),
    ("drill-run-upload-not-s3", lambda t: ["drill", "run", DRILL, "--upload", "my-bucket/drills"], "--upload"),
    ("drill-run-auto-confirm-negative", lambda t: ["drill", "run", DRILL, "--auto-confirm", "-1"], "--auto-confirm"),
    # a protected environment, a runbook with a manual step, nobody at a terminal (pytest's stdin), no --auto-confirm
    ("drill-run-protected-nobody-to-confirm", lambda t: ["drill", "run", _protected_lab_drill(t), "--confirm", "local"],
     "--auto-confirm"),
    ("recover-missing", lambda t: ["recover", str(t / "nope.jsonl")], "nope.jsonl"),
    ("recover-not-a-journal", lambda t: ["recover", _not_a_journal(t)], "notes.jsonl"),
    ("report-missing", lambda t: ["report", str(t / "nope.jsonl")], "nope.jsonl"),
    ("rehearse-unknown-fault", lambda t: ["rehearse", DRILL, "--fault", "meteor"], "meteor"),
    ("rehearse-data-without-its-runbook", lambda t: ["rehearse", str(ROOT / "drills" / "rds-failover.yaml"), "--fault",
                                                     "data"], "runbooks.data"),
    ("restore-test-events-zero", lambda t: ["restore-test", "--events", "0", "--state-dir", str(t / "lab"),
                                            "--out", str(t / "out")], "--events"),
    ("restore-test-protected", lambda t: ["restore-test", "--env", AWS_ENV, "--state-dir", str(t / "lab"),
                                          "--out", str(t / "out")], "--confirm"),
    # what a newcomer met (issue 28): each one rejected before any banner, lab or request
    ("rehearse-misspelt-fault", lambda t: ["rehearse", DRILL, "--fault", "regoin"], "regoin"),
    ("link-delay-minus-50", lambda t: ["lab", "fault", "delay-link", "-50"], "greater than or equal to 0"),
    ("ingest-latency-minus-5", lambda t: ["lab", "fault", "inject-latency", "-5"], "greater than or equal to 0"),
    ("gate-latency-slo-the-wrong-way", lambda t: ["load", "gate", PROFILE, "--slo", "p95>300ms"], "'p95<300ms'"),
    ("gate-errors-slo-the-wrong-way", lambda t: ["load", "gate", PROFILE, "--slo", "errors>=1%"], "'errors<1%'"),
    ("gate-achieved-slo-the-wrong-way", lambda t: ["load", "gate", PROFILE, "--slo", "achieved<95%"],
     "'achieved>=95%'"),
    ("dashboards-push-without-token", lambda t: ["dashboards", "push", "--grafana-url", "http://127.0.0.1:9"],
     "GRAFANA_TOKEN is not set"),
    ("runbook-render-missing", lambda t: ["runbook", "render", str(t / "nope.yaml")], "nope.yaml"),
    ("init-not-empty", lambda t: ["init", _not_empty(t)], "--force"),
    ("init-tag-without-aws", lambda t: ["init", str(t / "new"), "--tag", "a=b"], "--aws"),
    ("init-aws-without-tag", lambda t: ["init", str(t / "new"), "--aws", "--regions", "us-east-1,us-west-2"], "--tag"),
    ("init-tag-no-value", lambda t: ["init", str(t / "new"), "--aws", "--tag", "gameday:target",
                                     "--regions", "us-east-1,us-west-2"], "--tag"),
    ("init-one-region", lambda t: ["init", str(t / "new"), "--aws", "--tag", "a=b", "--regions", "us-east-1"],
     "--regions"),
    ("init-bad-role-arn", lambda t: ["init", str(t / "new"), "--aws", "--tag", "a=b", "--regions",
                                     "us-east-1,us-west-2", "--role-arn", "gameday-role"], "--role-arn"),
    # what a newcomer met (review): each named the wrong thing, printed before its error, or was no usage error
    ("gate-bad-hard-limit", lambda t: ["load", "gate", PROFILE, "--hard-limit", "banana", "--slo", "p95<1s"],
     "--hard-limit"),
    ("gate-duration-0", lambda t: ["load", "gate", PROFILE, "--duration", "0", "--slo", "p95<1s"], "> 0"),
    ("capacity-bad-slo", lambda t: ["load", "capacity", PROFILE, "--max-rate", "10", "--slo", "p95<"], "--slo"),
    ("drill-validate-missing-env-option", lambda t: ["drill", "validate", DRILL, "--env", str(t / "nope.yaml")],
     "--env: environment file"),
    ("plan-missing-drill", lambda t: ["plan", str(t / "nope.yaml"), "--env", AWS_ENV, "--confirm", "aws-staging"],
     "nope.yaml: file not found"),
    ("drill-validate-profile-not-here", lambda t: ["drill", "validate", _drill_elsewhere(t)], "run from the folder"),
    ("report-a-folder", lambda t: ["report", str(t)], "cannot read"),
    ("history-no-runs", lambda t: ["history", _not_empty(t), "--out", str(t / "out")], "no run found"),
    ("report-not-a-journal", lambda t: ["report", _not_a_journal(t)], "not a gameday run journal"),
    ("chaos-validate-missing-experiment-no-environment", lambda t: ["chaos", "validate", str(t / "nope.yaml"), "--env",
                                                                    str(t / "no-env.yaml")], "nope.yaml"),
    ("chaos-run-missing-experiment-no-environment", lambda t: ["chaos", "run", str(t / "nope.yaml"), "--env",
                                                               str(t / "no-env.yaml")], "nope.yaml"),
    ("init-unknown-profile", lambda t: ["init", str(t / "new"), "--aws", "--tag", "a=b", "--regions",
                                        "us-east-1,us-west-2", "--profile", "no-such-profile-anywhere"], "--profile"),
]

_WITH_STATE = {"lab", "load", "chaos", "drill", "rehearse", "recover"}


@pytest.mark.parametrize("name,argv,word", CASES, ids=[c[0] for c in CASES])
def test_a_malformed_argument_exits_2_with_one_line_and_starts_nothing(name, argv, word, tmp_path, capsys,
                                                                        monkeypatch):
    monkeypatch.chdir(ROOT)  # the defaults (environments/local.yaml) resolve as for a user in the checkout
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    args = argv(tmp_path)
    state, out_dir = tmp_path / "lab", tmp_path / "out"
    extra: list[str] = []
    if args and args[0] in _WITH_STATE and len(args) > 1 and args[1] not in ("validate", "plan"):
        extra = ["--state-dir", str(state)]
        if args[0] in ("load", "chaos", "drill", "rehearse") and args[1] not in ("validate", "plan"):
            extra += ["--out", str(out_dir)]
    with pytest.raises(SystemExit) as info:
        main([*args, *extra] if "--" not in args else [*args[:args.index("--")], *extra, *args[args.index("--"):]])
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert info.value.code == 2, captured.err
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    assert captured.out.strip() == "" or name == "no-command", "nothing before the error: no banner, no progress"
    assert word.lower() in lines[0].lower(), lines[0]
    assert not state.exists(), "a lab was started"
    assert not out_dir.exists(), "a run began writing"
    assert not list(tmp_path.glob("report.*")), "a report was written (beside a file that is no journal)"


def test_version_and_no_arguments_through_the_installed_command():
    exe = Path(sys.executable).parent / "gameday"
    res = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.startswith("gameday ")
    res = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env={**os.environ, "COLUMNS": "80"})
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "Usage" in res.stdout and len(res.stderr.strip().splitlines()) == 1


def test_an_environment_field_the_aws_driver_refuses_names_the_environment_file_too(monkeypatch, capsys):
    """The AWS driver checks what it resolves (a replication group without Multi-AZ, a kube context that is not
    there) where the file is not known: the line named the field only ("aws.elasticache_replication_group: ...").
    It names the environment file as well."""
    from gameday.errors import ConfigError

    def refuse(env, *, confirm, plan_only=False):
        raise ConfigError("replication group x has no automatic failover (Multi-AZ)",
                          field="aws.elasticache_replication_group")

    monkeypatch.setattr("gameday.api.plan.aws_target", refuse)
    with pytest.raises(SystemExit) as info:
        main(["plan", str(ROOT / "drills" / "cache-failover.yaml"), "--env", AWS_ENV, "--confirm", "aws-staging"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {AWS_ENV}: aws.elasticache_replication_group: replication group x"), lines
