"""A lab running from another environment file is not this run's lab: refused with one line naming both
files, before anything is changed (the check reads the lab's state file alone)."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import LOCAL_ENV
from gameday.errors import ConfigError
from gameday.lab.control import refuse_other_environment


def _lab_state(tmp_path, env_file) -> None:
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "state.json").write_text(json.dumps({"env_file": str(env_file), "ready": True}))


def _copy(tmp_path, name, change=lambda env: None):
    env = yaml.safe_load(LOCAL_ENV.read_text())
    change(env)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(env))
    return path


def test_a_lab_from_another_environment_is_refused_naming_both_files(tmp_path):
    _lab_state(tmp_path, LOCAL_ENV)
    other = _copy(tmp_path, "token-b.yaml", lambda env: env["lab"].update({"db_pool_size": 9}))
    with pytest.raises(ConfigError) as info:
        refuse_other_environment(tmp_path / "lab", other)
    msg = str(info.value)
    assert str(LOCAL_ENV) in msg and str(other) in msg and len(msg.splitlines()) == 1 and info.value.exit_code == 2


def test_the_same_file_or_a_copy_describing_the_same_lab_is_accepted(tmp_path):
    _lab_state(tmp_path, LOCAL_ENV)
    refuse_other_environment(tmp_path / "lab", LOCAL_ENV)
    strict = _copy(tmp_path, "strict.yaml", lambda env: env.update({"stop_conditions": {"max_error_ratio": 0.5}}))
    refuse_other_environment(tmp_path / "lab", strict)  # run settings differ, the lab is the same


def test_a_lab_whose_environment_file_is_gone_is_refused(tmp_path):
    gone = _copy(tmp_path, "gone.yaml")
    _lab_state(tmp_path, gone)
    gone.unlink()
    with pytest.raises(ConfigError, match="gone.yaml"):
        refuse_other_environment(tmp_path / "lab", LOCAL_ENV)
