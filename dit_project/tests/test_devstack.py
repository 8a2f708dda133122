"""The dev stack's supervisor and test runner."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import psutil
import pytest

from dit_project import devstack, embedded

ROOT = Path(__file__).resolve().parents[2]


def test_stopping_the_supervisor_leaves_no_orphan_process():
    supervisor = devstack.Supervisor()
    child = supervisor.spawn("sleepy", ["sh", "-c", "sleep 300 & sleep 300 & wait"])
    deadline = time.monotonic() + 10
    while len(psutil.Process(child.process.pid).children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchildren = psutil.Process(child.process.pid).children()
    assert len(grandchildren) == 2

    supervisor.stop_all()

    assert child.process.returncode is not None
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in grandchildren)


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(monkeypatch, tmp_path):
    monkeypatch.setattr(devstack, "STOP_GRACE_SECONDS", 0.5)
    ready = tmp_path / "ready"
    supervisor = devstack.Supervisor()
    child = supervisor.spawn(
        "stubborn",
        [
            sys.executable,
            "-c",
            "import pathlib, signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "pathlib.Path(sys.argv[1]).touch()\n"
            "time.sleep(300)\n",
            str(ready),
        ],
    )
    deadline = time.monotonic() + 10
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)

    supervisor.stop_all()

    assert child.process.returncode == -signal.SIGKILL


def test_wait_any_reports_the_child_that_exited():
    supervisor = devstack.Supervisor()
    supervisor.spawn("long", ["sleep", "300"])
    quick = supervisor.spawn("quick", ["sh", "-c", "exit 3"])

    exited = supervisor.wait_any()
    supervisor.stop_all()

    assert exited is quick
    assert quick.process.returncode == 3


def test_test_command_stops_at_the_first_failing_step(monkeypatch, tmp_path):
    ran: list[str] = []

    def fake_run(argv, **kwargs):
        ran.append(" ".join(argv[1:3]))
        return subprocess.CompletedProcess(argv, 1 if "mypy" in argv else 0)

    monkeypatch.setattr(devstack.subprocess, "run", fake_run)
    monkeypatch.setattr(devstack, "_load_env", lambda: tmp_path)
    monkeypatch.setattr(devstack.EmbeddedServices, "start", lambda self: None)
    monkeypatch.setitem(os.environ, "DIT_READ_DOTENV", "0")

    code = devstack.command_test([])

    assert code == 1
    assert ran == ["-m ruff", "-m ruff", "-m mypy"]


class BrokenStdout:
    """stdout after `dev.py run | tee log` lost its reader: every write fails."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.integration
def test_shutdown_stops_postgres_and_redis_even_when_printing_fails(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    home = tmp_path / "dit-home"
    services = devstack.EmbeddedServices(home)
    try:
        services.start()
        assert embedded.postgres_running(home)
        assert embedded.redis_running(home)
        monkeypatch.setattr(sys, "stdout", BrokenStdout())

        services.stop()

        assert not embedded.redis_running(home)
        assert not embedded.postgres_running(home)
    finally:
        embedded.stop_redis(home)
        embedded.stop_postgres(home)


def test_a_line_printed_to_a_closed_pipe_is_dropped_and_later_lines_go_nowhere(monkeypatch):
    monkeypatch.setattr(sys, "stdout", BrokenStdout())

    devstack.say("dit: redis stopped (data kept)")
    devstack.say("dit: postgres stopped (data kept)")

    assert not isinstance(sys.stdout, BrokenStdout)


def _finished(supervisor, name, code):
    child = supervisor.spawn(name, [sys.executable, "-c", f"raise SystemExit({code})"])
    child.process.wait(timeout=30)
    return child


def test_the_run_command_exits_zero_when_the_bot_quits_and_nonzero_when_anything_else_ends():
    supervisor = devstack.Supervisor()

    assert devstack.run_outcome(_finished(supervisor, "bot", 0)) == 0
    assert devstack.run_outcome(_finished(supervisor, "bot", 2)) == 2
    assert devstack.run_outcome(_finished(supervisor, "web", 0)) == 1
    assert devstack.run_outcome(_finished(supervisor, "worker", 3)) == 3
    assert devstack.run_outcome(None) == 0
    supervisor.stop_all()


def test_a_second_run_on_a_busy_port_says_the_port_is_in_use_before_starting_anything(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "DIT_WEB_PORT": str(port), "DIT_HOME": str(tmp_path / "home")}

        result = subprocess.run(
            [sys.executable, "-m", "dit_project.devstack", "run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert f"dit: port {port} on 127.0.0.1 is in use" in result.stdout
    assert not (tmp_path / "home" / "pg").exists()


@pytest.mark.parametrize(("saved", "expected"), [("token-saved-in-admin-xyz", "discord"), (None, "local")])
def test_a_discord_token_saved_in_admin_makes_the_run_command_connect_to_discord(
    transactional_db, monkeypatch, saved, expected
):
    from django.db import connection

    from bots.services import manifest_load_file, setting_override_set

    bot = manifest_load_file(path=devstack.EXAMPLE_MANIFEST).bot
    if saved is not None:
        setting_override_set(bot=bot, key="DISCORD_TOKEN", value=saved, actor=None)
    db = connection.settings_dict
    query = urlencode({"host": db["HOST"], "port": db["PORT"]})
    monkeypatch.setenv("DATABASE_URL", f"postgres://{quote(db['USER'] or '')}@/{db['NAME']}?{query}")
    monkeypatch.setenv("DIT_READ_DOTENV", "0")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)

    assert devstack.bot_platform(devstack.EXAMPLE_BOT) == expected
