"""The dev stack's supervisor and test runner."""

import os
import signal
import subprocess
import sys
import time

import psutil

from dit_project import devstack


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
