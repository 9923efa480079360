"""Environment files: a malformed file is refused with file, field and expectation; nothing starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LOCAL_ENV
from gameday.cli import main
from gameday.config import load_environment
from gameday.errors import ConfigError


def test_local_environment_loads():
    env = load_environment(LOCAL_ENV)
    assert env.kind == "local" and env.lab is not None
    assert env.lab.regions.primary == "us-east-1" and env.lab.regions.dr == "us-west-2"


@pytest.mark.parametrize("text, field, expected", [
    ("name: x\nkind: local\nlab:\n  link:\n    delay_ms: -5\n", "lab.link.delay_ms", "greater than or equal to 0"),
    ("name: x\nkind: local\nlab:\n  nodes:\n    spot_per_zone: lots\n", "lab.nodes.spot_per_zone", "valid integer"),
    ("name: x\nkind: local\nlab:\n  dns_tll_s: 3\n", "lab.dns_tll_s", "unknown field"),
    ("name: x\nkind: moon\n", "kind", "'local' or 'aws'"),
    ("kind: local\nlab: {}\n", "name", "required field is missing"),
    ("name: x\nkind: local\nlab:\n  regions: {primary: r1, dr: r1}\n", "lab.regions", "different regions"),
    ("name: [x\n", "line", "not valid YAML"),
])
def test_malformed_environment_names_file_and_field(tmp_path: Path, text, field, expected):
    f = tmp_path / "env.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_environment(f)
    msg = str(info.value)
    assert str(f) in msg and field in msg and expected in msg, msg
    assert info.value.exit_code == 2


def test_lab_up_with_malformed_file_exits_2_and_starts_nothing(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nkind: local\nlab:\n  link:\n    delay_ms: fast\n")
    state_dir = tmp_path / "lab"
    with pytest.raises(SystemExit) as info:
        main(["lab", "up", "--env", str(bad), "--state-dir", str(state_dir)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "lab.link.delay_ms" in err
    assert not state_dir.exists(), "nothing may be created for an invalid environment"


def test_missing_environment_file_exits_2(tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["lab", "up", "--env", str(tmp_path / "nope.yaml"), "--state-dir", str(tmp_path / "lab")])
    assert info.value.code == 2
    assert "file not found" in capsys.readouterr().err


def test_every_command_has_help(capsys):
    for argv in (["--help"], ["lab", "--help"], ["lab", "fault", "--help"], ["lab", "fault", "fail-zone", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
        assert "Usage" in capsys.readouterr().out


def test_a_misspelt_key_is_named_as_the_unknown_field_and_a_validators_message_has_no_pydantic_prefix(tmp_path):
    """`primary_regoin:` was reported as "aws.primary_region: required field is missing (and 1 more problem(s))",
    and a validator's message began "Value error, "."""
    aws = (Path(LOCAL_ENV).parent / "aws-staging.example.yaml").read_text()
    (tmp_path / "misspelt.yaml").write_text(aws.replace("  primary_region:", "  primary_regoin:", 1))
    with pytest.raises(ConfigError) as info:
        load_environment(tmp_path / "misspelt.yaml")
    assert info.value.field == "aws.primary_regoin" and str(info.value).endswith("unknown field (and 1 more problem(s))")
    (tmp_path / "zone.yaml").write_text(aws.replace("zones: [us-east-1a,", "zones: [eu-west-1a,", 1))
    with pytest.raises(ConfigError) as info:
        load_environment(tmp_path / "zone.yaml")
    assert "zones must be in us-east-1" in str(info.value) and "Value error" not in str(info.value)


def test_a_required_field_left_null_says_it_needs_a_value_not_which_type_it_wants(tmp_path):
    """`gameday init --aws` writes an undecided required value as `null` (the file is refused until a person
    decides): the refusal said "aws.zones: Input should be a valid list"."""
    aws = (Path(LOCAL_ENV).parent / "aws-staging.example.yaml").read_text()
    zones = next(line for line in aws.splitlines() if line.strip().startswith("zones:"))
    (tmp_path / "todo.yaml").write_text(aws.replace(zones, "  zones: null  # TODO: the primary region's zones", 1))
    with pytest.raises(ConfigError) as info:
        load_environment(tmp_path / "todo.yaml")
    assert info.value.field == "aws.zones" and "no value (null), one is needed" in str(info.value), str(info.value)
