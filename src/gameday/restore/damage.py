"""The data faults: the service description's destructive statement, run once on the writer, bounded.

``corrupt_data`` runs ``service.store.corrupt_statement`` (an ``UPDATE ... SET col = NULL``), ``delete_data``
runs ``service.store.delete_statement`` (a ``DELETE``). Each receives ``%(max_rows)s`` and returns the damaged
ids as its first column (``RETURNING``). It runs in one transaction: a statement that touched more than
``max_rows`` rows is rolled back and the fault fails. T0 is taken just before COMMIT, so every transaction
committed before it is one a point-in-time restore to T0 brings back.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from gameday.errors import ConfigError, DriverError
from gameday.service.spec import ServiceSpec

__all__ = ["statement_for", "run_damage", "SAMPLE_MAX"]

SAMPLE_MAX = 50  # damaged ids kept in the journal (the data probe reads them back)
_FIELD = {"corrupt_data": "corrupt_statement", "delete_data": "delete_statement"}


def statement_for(spec: ServiceSpec, fault: str, *, file: str | None = None) -> str:
    """The statement the service description gives for ``fault``; ConfigError naming the field when none."""
    field = _FIELD[fault]
    if spec.store is None:
        raise ConfigError(f"{fault} needs the service's database: the service description has no store", file=file,
                          field="service.store")
    statement = getattr(spec.store, field)
    if not statement:
        raise ConfigError(f"{fault} needs the statement that damages the service's data", file=file,
                          field=f"service.store.{field}")
    return str(statement)


def run_damage(dsn: str, statement: str, max_rows: int, *, fault: str) -> tuple[float, dict[str, Any]]:
    """Run ``statement`` once in a transaction on ``dsn``; roll back (DriverError) when it touched more rows
    than ``max_rows``. Returns (T0, detail): ``damaged`` (rows), ``sample`` (ids), ``statement`` (a FaultResult's)."""
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            cur = conn.execute(statement, {"max_rows": max_rows})
            rows = cur.fetchall() if cur.description else []
            touched = cur.rowcount
            if touched > max_rows:
                conn.rollback()
                raise DriverError(f"{fault}: the statement touched {touched} rows, more than max_rows {max_rows}: "
                                  "rolled back")
            if touched == 0:
                conn.rollback()
                raise DriverError(f"{fault}: the statement touched no row (nothing to damage yet?)")
            t_applied = time.time()
            conn.commit()
    except psycopg.Error as exc:
        raise DriverError(f"{fault}: {type(exc).__name__}: {str(exc).strip()[:300]}") from exc
    sample = [str(r[0]) for r in rows[:SAMPLE_MAX]]
    return t_applied, {"damaged": touched, "sample": sample, "statement": statement, "max_rows": max_rows}
