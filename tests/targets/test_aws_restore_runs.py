"""A restore drill on AWS as a person runs it: ``--dry-run`` names the statement, the restore and the delete for
the environment's instance and changes nothing; ``gameday recover`` deletes the restored instance a killed run
left (from its journal alone); ``gameday iam-policy`` allows the restore into tagged instances and the deletion of
restored ones only. Against a moto server over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday import operations
from gameday.config import load_environment
from gameday.journal import Journal, read_journal
from gameday.targets.aws.iam import iam_policy
from gameday.targets.aws.target import AwsTarget
from targets.iam_eval import allows
from targets.test_aws_restore import RESTORED, env_file, instances, small_seed

RUNBOOK = """
name: pitr-restore-aws
title: "Data corruption: point-in-time restore"
steps:
  - {id: restore, name: "Restore to just before the damage", kind: action, call: restore_point_in_time,
     args: {to: before_fault, instance: gameday-restore}, budget_s: 3600, timeout_s: 30, done_when: "available"}
  - {id: verify, name: "The restored data against the ledger", kind: action, call: verify_restore,
     args: {instance: gameday-restore}, budget_s: 300, timeout_s: 30, done_when: "no acknowledged write missing"}
"""


def write_drill(tmp_path, env: str, *, warmup_s: float = 1, recovery_timeout_s: float = 30) -> str:
    """The data-corruption drill on AWS, its runbook beside it."""
    (tmp_path / "runbook.yaml").write_text(RUNBOOK)
    drill = tmp_path / "drill.yaml"
    drill.write_text(f"""
name: data-corruption-aws
environment: {env}
runbook: {tmp_path / 'runbook.yaml'}
load: {{rate: 20, batch: 1}}
fault: {{action: corrupt_data, args: {{max_rows: 10}}}}
targets: {{rto_s: 3600, rpo_s: 300}}
probe: {{interval_s: 0.2, consecutive: 5, timeout_s: 1}}
warmup_s: {warmup_s}
cooldown_s: 0.5
recovery_timeout_s: {recovery_timeout_s}
""")
    return str(drill)


def drill_files(tmp_path, pg: str) -> tuple[str, str]:
    env = env_file(tmp_path, small_seed(), pg)
    return env, write_drill(tmp_path, env)


def test_a_dry_run_names_the_statement_the_restore_and_the_delete_and_changes_nothing(moto, pg, tmp_path, capsys):
    from gameday.cli import main

    env, drill = drill_files(tmp_path, pg)
    before = instances()
    with pytest.raises(SystemExit) as info:  # no --confirm: a plan needs none, and runs nothing
        main(["drill", "run", drill, "--dry-run"])
    assert info.value.code in (0, None)
    printed = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    order = [printed.find(api) for api in ("postgres:statement", "rds:RestoreDBInstanceToPointInTime",
                                           "rds:DeleteDBInstance", "nothing was changed")]
    assert -1 not in order and order == sorted(order), printed

    from gameday.api.plan import aws_plan, plan_lines

    lines = plan_lines(aws_plan(Path(drill), Path(env)))  # what the console printed, unwrapped
    names = [line.split()[0] for line in lines]
    assert names[:3] == ["postgres:statement", "rds:RestoreDBInstanceToPointInTime", "rds:DeleteDBInstance"], lines
    restore = next(line for line in lines if line.startswith("rds:RestoreDBInstanceToPointInTime"))
    assert RESTORED in restore and "SourceDBInstanceIdentifier=ingest-db" in restore
    assert "RestoreTime=T0 (just before the fault)" in restore
    assert next(line for line in lines if line.startswith("rds:DeleteDBInstance")).split()[1] == RESTORED
    assert "UPDATE events SET payload = NULL" in lines[0] and "max_rows=10" in lines[0]
    assert lines[-1].endswith("nothing was changed") and instances() == before


def test_a_drill_run_with_a_data_fault_is_refused_without_confirm_before_anything_starts(moto, pg, tmp_path, capsys):
    from gameday.cli import main

    _, drill = drill_files(tmp_path, pg)
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", drill, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1 and "--confirm aws-staging" in err, err
    assert not (tmp_path / "out" / "journal.jsonl").exists()


def test_gameday_recover_deletes_the_restored_instance_a_killed_run_left(moto, pg, tmp_path, capsys):
    from gameday.cli import main

    env = env_file(tmp_path, small_seed(), pg)
    j = Journal(tmp_path / "journal.jsonl")
    j.record("drill.start", "runner", {"environment_file": env})
    j.record("fault.intent", "runner", operations.intent("restore_point_in_time", {"to": "latest", "instance": RESTORED}))
    AwsTarget(load_environment(env)).restore_point_in_time("latest", RESTORED)
    j.close()  # the runner is killed here, the restored instance left running
    assert RESTORED in instances()

    with pytest.raises(SystemExit) as info:
        main(["recover", str(tmp_path / "journal.jsonl")])
    assert info.value.code in (0, None)
    assert "restore_point_in_time" in capsys.readouterr().out
    assert RESTORED not in instances() and "ingest-db" in instances()
    done = [e.value for e in read_journal(tmp_path / "journal.jsonl") if e.kind == "fault.inverse_applied"]
    assert [d["inverse"] for d in done] == ["discard_restore"] and done[0]["result"]["deleted"] is True
    with pytest.raises(SystemExit):
        main(["recover", str(tmp_path / "journal.jsonl")])
    assert "nothing to undo" in capsys.readouterr().out


def test_the_policy_allows_restores_into_tagged_instances_and_deletes_only_restored_ones(moto, pg, tmp_path):
    env = load_environment(env_file(tmp_path, small_seed(), pg))
    assert env.aws is not None
    p, acct = iam_policy(env.aws), env.aws.account_id
    new, source = f"arn:aws:rds:us-east-1:{acct}:db:{RESTORED}", f"arn:aws:rds:us-east-1:{acct}:db:ingest-db"
    tagged = {"aws:RequestTag/gameday:target": "staging", "aws:RequestTag/gameday:restore-of": "ingest-db"}
    for api in ("rds:RestoreDBInstanceToPointInTime", "rds:RestoreDBInstanceFromDBSnapshot"):
        assert allows(p, api, new, tagged)
        assert not allows(p, api, new, {"aws:RequestTag/gameday:target": "staging"}), "without gameday:restore-of"
        assert not allows(p, api, new, {}), "untagged"
    assert allows(p, "rds:RestoreDBInstanceToPointInTime", source)
    assert allows(p, "rds:DeleteDBInstance", new, {"aws:ResourceTag/gameday:restore-of": "ingest-db"})
    assert not allows(p, "rds:DeleteDBInstance", source, {"aws:ResourceTag/gameday:target": "staging"})
    assert not allows(p, "rds:DeleteDBInstance", f"arn:aws:rds:us-west-2:{acct}:db:ingest-db-dr",
                      {"aws:ResourceTag/gameday:restore-of": "ingest-db"}), "the primary region's only"
    assert allows(p, "rds:DescribeDBInstanceAutomatedBackups", "*")


def _tags(ident: str) -> dict[str, str]:
    from targets.test_aws_restore import tags

    return tags(ident)


def test_swap_writer_gives_the_restored_instance_the_writers_name_and_discard_gives_it_back(moto, pg, tmp_path):
    env = load_environment(env_file(tmp_path, small_seed(), pg))
    t = AwsTarget(env, confirm="aws-staging")
    t.restore_point_in_time("latest", RESTORED)
    swapped = t.swap_writer(RESTORED)
    kept = swapped["kept_as"]
    assert instances() == {"ingest-db", kept}, "the restored instance holds the writer's name, the original is kept"
    assert _tags("ingest-db")["gameday:restore-of"] == "ingest-db" and _tags(kept)["gameday:swapped-for"] == RESTORED
    assert "host=ingest-db." in t.writer_dsn(), "the writer endpoint follows the name"

    out = t.discard_restore(RESTORED)
    assert out["deleted"] is True and out["unswapped"] == {"writer_back": "ingest-db", "from": kept}
    assert instances() == {"ingest-db"}
    assert not {"gameday:restore-of", "gameday:swapped-for"} & set(_tags("ingest-db")), "the original, as it was"


def test_recover_puts_the_names_back_and_deletes_the_restore_after_a_run_killed_mid_swap(moto, pg, tmp_path):
    import boto3

    env = env_file(tmp_path, small_seed(), pg)
    j = Journal(tmp_path / "journal.jsonl")
    j.record("drill.start", "runner", {"environment_file": env})
    j.record("fault.intent", "runner", operations.intent("restore_point_in_time", {"to": "latest", "instance": RESTORED}))
    AwsTarget(load_environment(env), confirm="aws-staging").restore_point_in_time("latest", RESTORED)
    rds = boto3.client("rds", region_name="us-east-1")  # the swap's first half, then the runner is killed
    arn = rds.describe_db_instances(DBInstanceIdentifier="ingest-db")["DBInstances"][0]["DBInstanceArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "gameday:swapped-for", "Value": RESTORED}])
    rds.modify_db_instance(DBInstanceIdentifier="ingest-db", NewDBInstanceIdentifier="ingest-db-pre-restore-x",
                           ApplyImmediately=True)
    j.close()
    assert instances() == {"ingest-db-pre-restore-x", RESTORED}, "no writer by the configured name"

    from gameday.api.recover import recover_journal

    assert [u["action"] for u in recover_journal(tmp_path / "journal.jsonl").undone] == ["restore_point_in_time"]
    assert instances() == {"ingest-db"} and "gameday:swapped-for" not in _tags("ingest-db")


def test_the_data_corruption_drill_planned_on_aws_lists_restore_swap_and_delete(moto, pg, tmp_path):
    from conftest import ROOT
    from gameday.api.plan import aws_plan

    env = env_file(tmp_path, small_seed(), pg)
    before = instances()
    apis = [c["api"] for c in aws_plan(ROOT / "drills" / "data-corruption.yaml", Path(env))]
    assert apis[:6] == ["postgres:statement", "rds:RestoreDBInstanceToPointInTime", "rds:AddTagsToResource",
                        "rds:ModifyDBInstance", "rds:ModifyDBInstance", "rds:DeleteDBInstance"], apis
    assert instances() == before
