"""The team's own service binary as the lab's ingest nodes (``lab.service`` in the environment file).

Each node is the user's process, started with its placeholders filled (``{{port}}``, ``{{dsn}}`` the
node's region writer endpoint, ``{{region}}``, ``{{zone}}``, ``{{node}}``, ``{{tls_cert}}``,
``{{tls_key}}``, ``{{python}}`` the Python gameday runs on, ``{{cache_url}}`` the cache's primary endpoint
``redis://127.0.0.1:PORT``, empty without a cache), in the lab's process group like every lab process.
``setup`` runs once against the primary before the nodes start (a migration).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gameday.lab.tls import self_signed
from gameday.service.checks import LAB_SERVICE_NAMES
from gameday.service.spec import LabServiceSpec
from gameday.service.template import Template, expand_env

__all__ = ["HostedService"]

@dataclass
class HostedService:
    spec: LabServiceSpec
    cert: Path | None
    key: Path | None

    @classmethod
    def prepare(cls, spec: LabServiceSpec, root: Path) -> HostedService:
        cert, key = self_signed(root / "tls") if spec.tls else (None, None)
        return cls(spec, cert, key)

    @property
    def scheme(self) -> str:
        return "https" if self.spec.tls else "http"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **{k: expand_env(v) for k, v in self.spec.env.items()}}

    def _fill(self, argv: list[str], values: dict[str, str]) -> list[str]:
        base = {"tls_cert": str(self.cert or ""), "tls_key": str(self.key or ""), "python": sys.executable, **values}
        return [Template(a, LAB_SERVICE_NAMES).render({**dict.fromkeys(LAB_SERVICE_NAMES, ""), **base}) for a in argv]

    def command(self, *, port: int, dsn: str, region: str, zone: str, node: str, cache_url: str = "") -> list[str]:
        return self._fill(self.spec.command, {"port": str(port), "dsn": dsn, "region": region, "zone": zone,
                                              "node": node, "cache_url": cache_url})

    def run_setup(self, dsn: str, log: Path) -> None:
        """The setup command, once; a failure stops the lab's start-up with the command's last words."""
        if not self.spec.setup:
            return
        argv = self._fill(self.spec.setup, {"dsn": dsn})
        with open(log, "ab") as out:
            res = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 env=self.env, timeout=300)
        if res.returncode != 0:
            tail = log.read_text(errors="replace")[-600:]
            raise RuntimeError(f"lab.service.setup exited {res.returncode}: {tail}")
