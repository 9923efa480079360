"""The AWS driver's restore drills (docs/restore.md), mixed into ``AwsTarget``:

- ``corrupt_data`` / ``delete_data``: the service description's statement (``service.store.corrupt_statement`` /
  ``delete_statement``), bounded by ``%(max_rows)s`` and rolled back past it (``gameday.restore.damage``), run
  once on the primary region's writer. It runs only when the operator confirmed it with ``--confirm NAME``
  (``gameday plan`` and ``--dry-run`` show it first); without, the run is refused before anything starts;
- ``restore_point_in_time`` / ``restore_snapshot``: into a NEW instance (``rds_restore``), returning once it
  accepts connections; ``verify_restore`` hands its endpoint (as a DSN) to the shared ledger check;
- ``swap_writer``: the restored instance renamed to the original's name (the endpoint follows it; ``rds_swap``);
- ``discard_restore``: the names back when swapped, then DeleteDBInstance: the inverse journaled before the
  restore (``gameday recover``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import make_conninfo

from gameday.errors import ConfigError
from gameday.restore.damage import run_damage, statement_for
from gameday.restore.models import BackupStatus
from gameday.service.template import expand_env
from gameday.targets.aws import rds_restore, rds_swap, wait
from gameday.targets.aws.guard import guarded
from gameday.targets.base import FaultResult

if TYPE_CHECKING:
    from gameday.config import Environment
    from gameday.config_aws import AwsSettings
    from gameday.service.resolved import Service
    from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["AwsRestores"]

_FIELD = {"corrupt_data": "corrupt_statement", "delete_data": "delete_statement"}


class AwsRestores:
    env: Environment
    settings: AwsSettings
    session: AwsSession
    actions: Actions
    confirmed: bool
    db_password: str | None
    run_id: str

    def service(self) -> Service:
        raise NotImplementedError  # AwsTarget's

    def store_dsn(self, region: str) -> str:
        raise NotImplementedError  # AwsTarget's

    def check_stop_conditions(self) -> None:
        raise NotImplementedError  # AwsTarget's

    # ---- the data faults ----------------------------------------------------------------------------------
    def data_statement(self, fault: str) -> str:
        """The statement ``fault`` would run; ConfigError (exit 2, before anything starts) when the service
        description has none, when it is not bounded, or when nobody confirmed it (a plan needs no confirmation)."""
        statement = statement_for(self.service().spec, fault)
        if "%(max_rows)s" not in statement:
            raise ConfigError(f"{fault}: the statement must be bounded by %(max_rows)s (e.g. WHERE id IN (SELECT id "
                              "... LIMIT %(max_rows)s))", field=f"service.store.{_FIELD[fault]}")
        if not self.actions.plan_only and not self.confirmed:
            raise ConfigError(f"{fault} runs {statement!r} on {self.env.name}'s writer: confirm it with --confirm "
                              f"{self.env.name} (gameday plan shows it)", field="--confirm")
        return statement

    def _damage(self, fault: str, max_rows: int) -> FaultResult:
        statement = self.data_statement(fault)
        self.check_stop_conditions()
        region = self.settings.primary_region
        dsn = self.store_dsn(region)
        done = self.actions.do("postgres:statement", f"{self.settings.rds.database} ({region} writer)",
                               lambda: run_damage(dsn, statement, max_rows, fault=fault),
                               statement=statement, max_rows=max_rows)
        if done is None:  # a plan
            return FaultResult(time.time(), {"statement": statement, "max_rows": max_rows, "planned": True})
        return FaultResult(*done)

    @guarded
    def corrupt_data(self, max_rows: int = 200) -> FaultResult:
        return self._damage("corrupt_data", max_rows)

    @guarded
    def delete_data(self, max_rows: int = 200) -> FaultResult:
        return self._damage("delete_data", max_rows)

    # ---- restores -------------------------------------------------------------------------------------------
    @guarded
    def restore_point_in_time(self, to: float | str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
        return self._ready(rds_restore.restore_pitr(self.session, self.actions, instance, to))

    @guarded
    def restore_snapshot(self, snapshot: str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
        return self._ready(rds_restore.restore_snapshot(self.session, self.actions, instance, snapshot))

    def _ready(self, out: dict[str, Any]) -> dict[str, Any]:
        """The restore's result once the new instance accepts connections (``available`` can come first)."""
        if self.actions.plan_only:
            return out
        instance = str(out["instance"])
        host, port = rds_restore.restored_endpoint(self.session, instance)
        dsn, last = self.restored_dsn(instance, host, port), [""]

        def connects() -> bool:
            try:
                psycopg.connect(dsn, connect_timeout=3).close()
            except psycopg.Error as exc:
                last[0] = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
                return False
            return True

        wait.until(self.session, self.actions, f"the restored instance {instance} to accept connections", connects,
                   lambda: last[0])
        t_ready = time.time()
        return {**out, "endpoint": f"{host}:{port}", "t_ready": t_ready, "restore_s": round(t_ready - out["t_started"], 3)}

    def restored_dsn(self, instance: str, host: str, port: int) -> str:
        """How the runner reaches a restored instance: ``aws.rds.restored_dsn`` (a tunnel), else its endpoint."""
        r = self.settings.rds
        if r.restored_dsn:
            dsn = expand_env(r.restored_dsn, field="aws.rds.restored_dsn")  # ${VAR}: a password, never in the file
            return dsn.replace("{host}", host).replace("{port}", str(port)).replace("{instance}", instance)
        return make_conninfo(host=host, port=port, user=r.user, dbname=r.database, connect_timeout=3,
                             password=self.db_password or None)

    @guarded
    def verify_restore(self, instance: str = "gameday-restore") -> dict[str, Any]:
        """Where the restored instance answers (the ledger check is ``gameday.restore.verify``'s)."""
        if self.actions.plan_only:
            return {"instance": instance, "dsn": None, "planned": True}
        host, port = rds_restore.restored_endpoint(self.session, instance)
        return {"instance": instance, "dsn": self.restored_dsn(instance, host, port), "endpoint": f"{host}:{port}"}

    @guarded
    def swap_writer(self, instance: str = "gameday-restore") -> dict[str, Any]:
        """The restored instance takes the original's name, and with it the writer endpoint (rds_swap)."""
        return rds_swap.swap(self.session, self.actions, instance, self.run_id)

    @guarded
    def discard_restore(self, instance: str = "gameday-restore") -> dict[str, Any]:
        """The names back first when the writer was swapped to it, then DeleteDBInstance."""
        back = rds_swap.unswap(self.session, self.actions, instance)
        return {**rds_restore.discard(self.session, self.actions, instance), **({"unswapped": back} if back else {})}

    @guarded
    def backup_status(self) -> BackupStatus:
        return rds_restore.backup_status(self.session)
