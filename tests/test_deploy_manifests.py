"""The monthly drill as it is deployed: the CronJob manifests and the Dockerfile agree with the CLI (every
flag they pass exists and parses, the protected environment they name is confirmed, manual steps have
somebody or --auto-confirm, the metrics address is not loopback and matches the scrape annotation, the
output outlives the pod) and the image is built with pip alone from the pinned constraints."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from gameday.cli import app
from gameday.drill.confirm import manual_handler
from gameday.drill.models import load_drill
from gameday.errors import ConfigError
from gameday.scaffold import SHIPPED

ROOT = Path(__file__).resolve().parents[1]
CRONJOBS = sorted((ROOT / "deploy" / "k8s").glob("drill-cronjob*.yaml"))


def _cronjobs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "CronJob"]


def _parse(args: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Parse ``args`` with gameday's own command tree (click, as the CLI does): the command path and its
    parameters. An unknown command or flag, or a malformed value, raises here as it would in the pod."""
    cmd: Any = typer.main.get_command(app)
    path, rest = [], list(args)
    while hasattr(cmd, "commands"):
        name = rest.pop(0)
        assert name in cmd.commands, f"no command {name!r} in {' '.join(['gameday', *path])}"
        cmd, path = cmd.commands[name], [*path, name]
    ctx = cmd.make_context(" ".join(["gameday", *path]), rest)
    return path, ctx.params


@pytest.mark.parametrize("manifest", CRONJOBS, ids=[p.name for p in CRONJOBS])
def test_the_cronjob_passes_only_flags_the_cli_has_and_everything_a_protected_run_needs(manifest):
    (job,) = _cronjobs(manifest)
    pod = job["spec"]["jobTemplate"]["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert "command" not in container  # the image's entrypoint is gameday
    path, params = _parse([str(a) for a in container["args"]])
    assert path == ["drill", "run"]

    env_mount = next(m for m in container["volumeMounts"] if params["env"].as_posix().startswith(m["mountPath"]))
    assert any(v["name"] == env_mount["name"] and "configMap" in v for v in pod["spec"]["volumes"])
    example = yaml.safe_load((ROOT / "environments" / "aws-staging.example.yaml").read_text())
    assert example["protected"] and params["confirm"] == example["name"]  # else: exit 2 every month

    loaded = load_drill(ROOT / params["drill"], ROOT / "environments" / "aws-staging.example.yaml")
    # no terminal in a pod: what drill run decides there (refusing a protected run nobody can confirm: exit 2)
    manual_handler(loaded, auto_confirm_s=params["auto_confirm_s"], stdin="none",
                   operator=params["operator"] or "nobody", ask=input, say=lambda msg: None)

    addr = ipaddress.ip_address(params["metrics_addr"])
    assert not addr.is_loopback, "Prometheus cannot scrape a loopback address"
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == params["metrics_port"]
    assert {"containerPort": params["metrics_port"], "name": "metrics"} in container["ports"]

    results = next(m for m in container["volumeMounts"] if params["out_dir"].as_posix().startswith(m["mountPath"]))
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == results["name"])
    kept = params["upload"] is not None or "persistentVolumeClaim" in volume
    assert kept, "the run's output would vanish with the pod"
    if params["upload"] is not None:
        assert params["upload"].startswith("s3://")
    password_env = example["aws"]["rds"]["password_env"]
    assert any(e["name"] == password_env for e in container["env"])


def test_the_pvc_variant_writes_one_folder_per_run_on_its_claim():
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / "drill-cronjob-pvc.yaml").read_text()))
    claim = next(d for d in docs if d["kind"] == "PersistentVolumeClaim")
    (job,) = _cronjobs(ROOT / "deploy" / "k8s" / "drill-cronjob-pvc.yaml")
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert any(v.get("persistentVolumeClaim", {}).get("claimName") == claim["metadata"]["name"] for v in pod["volumes"])
    args = pod["containers"][0]["args"]
    assert args[args.index("--out") + 1].endswith("$(POD_NAME)")  # substituted by Kubernetes: a folder per run
    assert any(e["name"] == "POD_NAME" and e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
               for e in pod["containers"][0]["env"])


def test_the_dockerfile_installs_with_pip_from_the_constraints_and_ships_what_the_cronjob_names():
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    runs = " ".join(ln for ln in lines if ln.startswith("RUN"))
    assert "pip install -c constraints.txt ." in runs
    assert not any(tool in runs for tool in ("apt-get", "apk ", "yum ", "curl ", "wget "))
    copied = {src for ln in lines if ln.startswith("COPY") for src in ln.split()[1:-1]}
    assert {"src", "drills", "runbooks", "constraints.txt", "pyproject.toml"} <= copied
    install = next(i for i, ln in enumerate(lines) if ln.startswith("RUN pip install"))
    before = {src for ln in lines[:install] if ln.startswith("COPY") for src in ln.split()[1:-1]}
    assert set(SHIPPED) <= before, "gameday init's templates are symlinks to these folders: copied before the install"
    assert 'ENTRYPOINT ["gameday"]' in lines and any(ln.startswith("USER ") and "root" not in ln for ln in lines)
    for manifest in CRONJOBS:
        (job,) = _cronjobs(manifest)
        args = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        assert (ROOT / args[2]).exists() and args[2].split("/")[0] in copied


def test_a_misspelt_flag_would_be_caught():
    with pytest.raises(Exception, match="--auto-confirmed"):
        _parse(["drill", "run", "drills/region-failover.yaml", "--auto-confirmed", "60"])


def test_a_cronjob_naming_an_operator_but_no_auto_confirm_would_be_refused():
    loaded = load_drill(ROOT / "drills" / "region-failover.yaml", ROOT / "environments" / "aws-staging.example.yaml")
    with pytest.raises(ConfigError, match="--auto-confirm"):
        manual_handler(loaded, auto_confirm_s=None, stdin="none", operator="monthly-cronjob", ask=input,
                       say=lambda msg: None)
