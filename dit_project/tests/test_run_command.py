"""The README's run command brings up web (admin on a port), the Celery worker, the reactor's dispatcher
and the bot, and Ctrl-C stops every process it started."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest
from django.conf import settings

from dit_project import embedded

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture
def throwaway_database():
    db = settings.DATABASES["default"]
    name = f"test_devstack_run_{os.getpid()}"
    admin_url = f"postgresql://{db['USER']}@/postgres?host={db['HOST']}&port={db['PORT']}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://{db['USER']}@/{name}?host={db['HOST']}&port={db['PORT']}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _admin_login_status(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2) as response:
            return int(response.status)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


@pytest.mark.parametrize(
    ("discord_token", "bot_argv"),
    [
        pytest.param("", "runbot example --local", id="local-chat-without-a-token"),
        pytest.param("run-command-secret-token-value", "runbot example", id="discord-with-a-token"),
    ],
)
def test_run_command_serves_admin_runs_worker_reactor_and_bot_and_stops_everything_on_ctrl_c(
    throwaway_database, tmp_path, discord_token, bot_argv
):
    port = embedded._free_port()
    log_path = tmp_path / "run.log"
    env = {
        **os.environ,
        "DATABASE_URL": throwaway_database,
        "REDIS_URL": settings.REDIS_URL.rsplit("/", 1)[0] + "/7",
        "DIT_WEB_PORT": str(port),
        "DISCORD_TOKEN": discord_token,
        "DIT_HOME": str(tmp_path / "home"),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dit_project.devstack", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_for(lambda: _admin_login_status(port) == 200, 180, "admin login page")
            _wait_for(lambda: "ready." in log_path.read_text(errors="replace"), 120, "celery worker ready")
            _wait_for(lambda: "dispatcher started" in log_path.read_text(errors="replace"), 60, "reactor dispatcher")
            descendants = psutil.Process(process.pid).children(recursive=True)
            names = [" ".join(p.cmdline()) for p in descendants]
            assert any("uvicorn dit_project.asgi:application" in name for name in names)
            assert any("celery -A dit_project worker" in name for name in names)
            assert any(name.endswith("manage.py reactor") for name in names), names
            assert any(name.endswith(bot_argv) for name in names), names
        finally:
            process.send_signal(signal.SIGINT)
            exit_code = process.wait(timeout=60)

    output = log_path.read_text(errors="replace")
    assert exit_code == 0, output[-3000:]
    assert not [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert "run-command-secret-token-value" not in output
    assert "dit: Ctrl-C stops everything" in output
