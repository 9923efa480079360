"""Test-side tools for the in-memory drill: a small region-failover drill and a runner on the fake Target."""

from __future__ import annotations

from pathlib import Path

from gameday.drill.fakes import fake_background, fake_reconciler
from gameday.drill.models import load_drill
from gameday.drill.runner import DrillRun
from gameday.targets.fake import FakeTarget

ROOT = Path(__file__).resolve().parents[1]

RUNBOOK = """
name: fake-region
title: region failover on the fake target
steps:
  - {id: alert, name: Alert, kind: wait, wait_for: synthetic_failing, timeout_s: 5, budget_s: 60, done_when: failing}
  - {id: confirm, name: Confirm, kind: manual, declares: true, budget_s: 300, done_when: declared}
  - {id: promote, name: Promote, kind: action, call: promote_dr_db, budget_s: 600, done_when: promoted}
  - {id: dns, name: DNS, kind: action, call: switch_dns, args: {region: "{dr_region}"}, budget_s: 120, done_when: flipped}
  - {id: scale, name: Scale, kind: action, call: scale_dr, args: {count: 3}, wait_for: dr_nodes_healthy,
     timeout_s: 5, budget_s: 300, done_when: three nodes}
  - {id: smoke, name: Smoke, kind: wait, wait_for: synthetic_recovered, timeout_s: 5, budget_s: 300, done_when: ok}
"""


def _drill(tmp_path: Path, *, runbook: str = RUNBOOK, extra: str = "", rto_s: float = 1800) -> Path:
    (tmp_path / "runbook.yaml").write_text(runbook)
    path = tmp_path / "drill.yaml"
    path.write_text(f"""
name: fake-region-failover
environment: {ROOT / "environments" / "local.yaml"}
runbook: {tmp_path / "runbook.yaml"}
load: {{profile: builtin, rate: 100, batch: 2}}
fault: {{action: fail_region, args: {{region: "{{primary_region}}"}}}}
targets: {{rto_s: {rto_s}, rpo_s: 300}}
probe: {{interval_s: 0.05, consecutive: 3, timeout_s: 1}}
warmup_s: 0.3
cooldown_s: 0.1
manual_confirm_s: 0
recovery_timeout_s: 1
{extra}
""")
    return path


def _run(tmp_path: Path, target: FakeTarget, **kwargs) -> dict:
    loaded = load_drill(kwargs.pop("drill", None) or _drill(tmp_path))
    return DrillRun(loaded, target, tmp_path / "out", background=fake_background(target),
                    reconciler=fake_reconciler(target), **kwargs).execute()
