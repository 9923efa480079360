"""What a newcomer met (issue 28), each fixed where it was wrong: dry runs that print what will happen (filled in,
without a lab), ``lab status`` with the pids to look for, a hosted service started with gameday's own Python,
and counts said in words that agree with them."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from gameday.cli import main
from gameday.lab.hosted import HostedService
from gameday.service.checks import check_lab_service
from gameday.service.spec import LabServiceSpec

ROOT = Path(__file__).resolve().parents[1]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return int(info.value.code or 0), " ".join(capsys.readouterr().out.split())


def test_drill_dry_run_shows_the_regions_filled_in(capsys):
    code, out = _run(["drill", "run", str(ROOT / "drills" / "region-failover.yaml"), "--dry-run"], capsys)
    assert code == 0 and "{primary_region}" not in out and "{dr_region}" not in out
    assert "fail_region {'region': 'us-east-1'}" in out and "switch_dns {'region': 'us-west-2'}" in out


def test_chaos_dry_run_needs_no_running_lab(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    state = tmp_path / "no-lab-here"
    code, out = _run(["chaos", "run", str(ROOT / "experiments" / "az-outage.yaml"), "--dry-run",
                      "--state-dir", str(state)], capsys)
    assert code == 0, out
    assert "the lab is not running" in out and "would touch db db-us-east-1b (not started, us-east-1b)" in out
    assert "dry run: nothing was changed" in out and not state.exists(), "no lab was started"


def test_lab_status_has_a_pid_column(monkeypatch, capsys):
    st = {"public_endpoint": "http://127.0.0.1:1", "dns": {"answer": "us-east-1", "ttl_s": 1},
          "regions": {"primary": "us-east-1", "dr": "us-west-2"}, "replication": [], "cache": None,
          "link": {"delay_ms": 50, "cut": False}, "regions_down": [], "zones_down": [], "zones_frozen": [],
          "processes": [{"kind": "node", "name": "node-us-east-1a-od-1", "region": "us-east-1", "zone": "us-east-1a",
                         "role": "ingest", "capacity_type": "on-demand", "pid": 43117, "port": 40001,
                         "state": "running", "health": "healthy"}]}
    class Running:  # a lab's answer, without a lab
        def __init__(self, state_dir: Path) -> None:
            pass

        def status(self) -> dict:
            return st

    monkeypatch.setattr("gameday.cli.lab.LabClient", Running)
    from gameday.cli.common import out as console

    monkeypatch.setattr(console, "width", 200)  # a wide terminal: no column cut (COLUMNS is read once, at import)
    with pytest.raises(SystemExit) as info:
        main(["lab", "status"])
    out = capsys.readouterr().out
    assert info.value.code in (0, None)
    header = next(line for line in out.splitlines() if "name" in line and "port" in line)
    row = next(line for line in out.splitlines() if "node-us-east-1a-od-1" in line)
    assert header.index("pid") < header.index("port") and "43117" in row


def test_a_hosted_service_command_gets_gamedays_own_python():
    spec = LabServiceSpec(command=["{{python}}", "services/app.py", "--port", "{{port}}"])
    check_lab_service(spec, "env.yaml")  # {{python}} is a known placeholder
    argv = HostedService(spec, None, None).command(port=8080, dsn="dsn", region="r", zone="z", node="n")
    assert argv == [sys.executable, "services/app.py", "--port", "8080"]


@pytest.mark.parametrize("rate, words", [(100, "that is 1 worker:"), (10_000_000, "workers:")])
def test_load_plan_says_worker_or_workers(rate, words, capsys):
    code, out = _run(["load", "plan", "--rate", str(rate)], capsys)
    assert code == 0 and words in out and not re.search(r"\b1 workers", out)
    assert json.loads(out[out.index("{"):])["workers"] >= 1


def test_a_dry_run_of_a_protected_environment_runs_with_its_confirm_as_plan_does(tmp_path, capsys):
    """`drill run --dry-run --confirm NAME` on a protected environment printed "pass --confirm NAME" (the
    confirmation was dropped for dry runs, then demanded): it prints the plan, and without --confirm it is
    refused like `gameday plan`, exit 2 naming --confirm."""
    from test_usage_errors import _protected_lab_drill

    drill = _protected_lab_drill(tmp_path)
    code, out = _run(["drill", "run", drill, "--dry-run", "--confirm", "local"], capsys)
    assert code == 0 and "dry run: nothing was changed" in out, out
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", drill, "--dry-run"])
    assert info.value.code == 2 and "--confirm local" in capsys.readouterr().err
