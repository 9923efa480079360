"""The AWS driver's restores: the restore-aws branch implements them (RestoreDBInstanceToPointInTime, ...).

Until it is merged, a restore drill on AWS is refused before anything starts (ConfigError, exit 2)."""

from __future__ import annotations

from typing import Any

from gameday.errors import ConfigError
from gameday.restore.models import BackupStatus
from gameday.targets.base import FaultResult

__all__ = ["AwsRestores"]


def _refused(what: str) -> ConfigError:
    return ConfigError(f"{what}: restore drills on AWS are not available in this build (the lab has them)",
                       field="fault")


class AwsRestores:
    def corrupt_data(self, max_rows: int = 200) -> FaultResult:
        raise _refused("corrupt_data")

    def delete_data(self, max_rows: int = 200) -> FaultResult:
        raise _refused("delete_data")

    def restore_point_in_time(self, to: float | str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
        raise _refused("restore_point_in_time")

    def restore_snapshot(self, snapshot: str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
        raise _refused("restore_snapshot")

    def verify_restore(self, instance: str = "gameday-restore") -> dict[str, Any]:
        raise _refused("verify_restore")

    def swap_writer(self, instance: str = "gameday-restore") -> dict[str, Any]:
        raise _refused("swap_writer")

    def discard_restore(self, instance: str = "gameday-restore") -> dict[str, Any]:
        raise _refused("discard_restore")

    def backup_status(self) -> BackupStatus:
        raise _refused("backup_status")
