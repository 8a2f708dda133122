"""The development stack behind `scripts/dev.py`: embedded services, set-up, and a process supervisor.

    python -m dit_project.devstack run        web on :8000, a Celery worker, the reactor and the example bot
    python -m dit_project.devstack test       ruff, mypy, Django checks and pytest
    python -m dit_project.devstack services start|stop|status

Processes started by `run` get their own process groups; Ctrl-C or SIGTERM stops every one of them
(SIGTERM, then SIGKILL after a grace period) and then the embedded services this command started,
so nothing is left running and the data stays on disk.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import environ

from dit_project import embedded

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MANIFEST = ROOT / "examples" / "example-bot" / "dit.json"
EXAMPLE_BOT = "example"
STOP_GRACE_SECONDS = 10.0


def say(message: str) -> None:
    """Print a line of the dev stack; when stdout is gone (a closed pipe: `dev.py run | tee log` after Ctrl-C)
    the line is dropped so that shutting down goes on, and later output goes nowhere instead of failing."""
    try:
        print(message, flush=True)
    except (BrokenPipeError, OSError, ValueError):
        _silence_stdout()


def _silence_stdout() -> None:
    if sys.stdout is sys.__stdout__ and sys.__stdout__ is not None:
        # Point the real descriptor at /dev/null too, so the interpreter's final flush cannot fail either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, sys.__stdout__.fileno())
        os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stdout for the rest of the process


def _load_env() -> Path:
    if os.environ.get("DIT_READ_DOTENV", "1") == "1":
        environ.Env.read_env(ROOT / ".env", overwrite=False)
    return Path(os.environ.get("DIT_HOME", str(ROOT / ".dit")))


@dataclass
class EmbeddedServices:
    """Starts the embedded services the environment does not provide, and stops only those."""

    home: Path
    started: list[str] = field(default_factory=list)

    def start(self) -> None:
        if not os.environ.get("DATABASE_URL"):
            was_running = embedded.postgres_running(self.home)
            address = embedded.start_postgres(self.home)
            if not was_running:
                self.started.append("postgres")
            say(f"dit: postgres {'reused' if was_running else 'started'} at {address.host}")
        if not os.environ.get("REDIS_URL"):
            was_running = embedded.redis_running(self.home)
            url = embedded.start_redis(self.home)
            if not was_running:
                self.started.append("redis")
            say(f"dit: redis {'reused' if was_running else 'started'} at {url}")

    def stop(self) -> None:
        """Stop what this command started; each stop runs even when an earlier one fails."""
        try:
            if "redis" in self.started:
                embedded.stop_redis(self.home)
                say("dit: redis stopped (data kept)")
        finally:
            if "postgres" in self.started:
                embedded.stop_postgres(self.home)
                say("dit: postgres stopped (data kept)")
            self.started.clear()


def manage(*args: str, check: bool = True) -> int:
    """Run a manage.py command in a child process and return its exit code."""
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, check=False)  # noqa: S603
    if check and result.returncode != 0:
        raise SystemExit(f"dit: manage.py {' '.join(args)} failed with exit code {result.returncode}")
    return result.returncode


def prepare_database() -> None:
    """Migrations, static files, the default persona and the example bot; each is idempotent and keeps
    what was tuned in admin (the persona is seeded only into a database that has none)."""
    manage("migrate", "--noinput", "--verbosity", "0")
    manage("collectstatic", "--noinput", "--verbosity", "0")
    manage("seed_personas")
    if EXAMPLE_MANIFEST.exists():
        manage("loadmanifest", str(EXAMPLE_MANIFEST))


@dataclass
class Child:
    """One supervised process and the thread that prefixes its output."""

    name: str
    process: subprocess.Popen[bytes]
    pump: threading.Thread | None


def _pump(name: str, stream: IO[bytes], log_file: Path | None) -> None:
    sink: IO[str] = log_file.open("a", encoding="utf-8") if log_file is not None else sys.stdout
    try:
        for raw in iter(stream.readline, b""):
            line = f"{name:>6} | {raw.decode(errors='replace')}"
            if log_file is None:
                say(line.rstrip("\n"))
                continue
            sink.write(line)
            sink.flush()
    finally:
        if log_file is not None:
            sink.close()


class Supervisor:
    """Runs processes in their own process groups and stops all of them together."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self.stopping = threading.Event()

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        foreground: bool = False,
        log_file: Path | None = None,
        hold_stdin: bool = False,
        env: dict[str, str] | None = None,
    ) -> Child:
        """Start a process: in the foreground it keeps the terminal; otherwise its output is prefixed and
        printed (or appended to `log_file`). `hold_stdin` gives it a pipe that stays open and silent."""
        if foreground:
            # The foreground process keeps the terminal (stdin) for the local chat adapter.
            process = subprocess.Popen(argv, cwd=ROOT, env=env)  # noqa: S603
            child = Child(name, process, None)
        else:
            process = subprocess.Popen(  # noqa: S603
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE if hold_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            stream = process.stdout
            if stream is None:  # pragma: no cover - stdout=PIPE always gives a stream
                raise RuntimeError(f"{name}: no output stream")
            pump = threading.Thread(target=_pump, args=(name, stream, log_file), daemon=True)
            pump.start()
            child = Child(name, process, pump)
        self.children.append(child)
        return child

    def wait_any(self) -> Child | None:
        """Block until a child exits or a stop is requested."""
        while not self.stopping.is_set():
            for child in self.children:
                if child.process.poll() is not None:
                    return child
            self.stopping.wait(0.2)
        return None

    def stop_all(self) -> None:
        for child in self.children:
            if child.process.poll() is None:
                _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                say(f"dit: {child.name} did not stop in {STOP_GRACE_SECONDS}s; killing it")
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
        for child in self.children:
            if child.pump is not None:
                child.pump.join(timeout=2)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        # Not a group leader (the foreground child) or already gone: signal the process itself.
        try:
            process.send_signal(sig)
        except ProcessLookupError:
            return


def run_outcome(exited: Child | None) -> int:
    """The run command's exit code once `exited` ended (None: Ctrl-C or SIGTERM). The bot ending cleanly (the
    local chat's /quit, or the end of its input) is a normal end; anything else exiting is a failure."""
    if exited is None:
        return 0
    code = exited.process.returncode
    if exited.name == "bot" and code == 0:
        say("dit: the bot stopped; stopping the rest")
        return 0
    say(f"dit: {exited.name} exited with code {code}; stopping the rest")
    return code or 1


def web_port_problem(host: str, port: int) -> str | None:
    """Why the web process could not listen on host:port (in use, or not an address here), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR as uvicorn sets it: a port left in TIME_WAIT by the previous run is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is in use (another `dev.py run`, or another server); stop it or set "
                    "DIT_WEB_PORT to a free port"
                )
            return f"cannot listen on {host}:{port} ({exc.strerror}); set DIT_WEB_HOST and DIT_WEB_PORT"
    return None


def bot_platform(slug: str) -> str:
    """`discord` when the bot has a Discord token in the environment or saved in admin, else `local`."""
    if os.environ.get("DISCORD_TOKEN"):
        return "discord"
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "bot_platform", slug],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"dit: manage.py bot_platform {slug} failed: {result.stderr.strip()}")
    return "discord" if result.stdout.strip() == "discord" else "local"


def command_run() -> int:
    home = _load_env()
    services = EmbeddedServices(home)
    supervisor = Supervisor()

    def request_stop(signum: int, frame: object) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    host = os.environ.get("DIT_WEB_HOST", "127.0.0.1")
    port = os.environ.get("DIT_WEB_PORT", "8000")
    problem = web_port_problem(host, int(port)) if port.isdigit() else f"DIT_WEB_PORT={port!r} is not a port number"
    if problem is not None:
        say(f"dit: {problem}")
        return 1
    try:
        services.start()
        prepare_database()
        python = sys.executable
        # With no Discord token (in the environment or saved in admin) the bot runs on the local chat
        # adapter. In a terminal the chat takes the foreground and the other processes log to files, so
        # their output does not interleave with it.
        discord = bot_platform(EXAMPLE_BOT) == "discord"
        interactive = not discord and sys.stdin.isatty()
        logs = home / "logs"
        logs.mkdir(parents=True, exist_ok=True)

        def quiet_log(name: str) -> Path | None:
            return logs / f"{name}.log" if interactive else None

        supervisor.spawn(
            "web",
            [python, "-m", "uvicorn", "dit_project.asgi:application", "--host", host, "--port", port],
            log_file=quiet_log("web"),
        )
        supervisor.spawn(
            "worker",
            [python, "-m", "celery", "-A", "dit_project", "worker", "-l", "info", "-c", "2"],
            log_file=quiet_log("worker"),
            # Forked worker processes keep a connection each rather than share a pool across the fork.
            env={**os.environ, "DATABASE_POOL": "0", "DATABASE_CONN_MAX_AGE": "600"},
        )
        # The reactor's dispatcher: hands due triggers to the worker (see docs/reactor.md).
        supervisor.spawn("reactor", [python, str(ROOT / "manage.py"), "reactor"], log_file=quiet_log("reactor"))
        say(f"dit: admin at http://{host}:{port}/admin/ (create a login: python manage.py createsuperuser)")
        bot = [python, str(ROOT / "manage.py"), "runbot", EXAMPLE_BOT]
        if discord:
            supervisor.spawn("bot", bot)
        elif interactive:
            say(f"dit: web, worker and reactor log to {logs}/; chatting with the bot locally (no DISCORD_TOKEN set)")
            supervisor.spawn("bot", [*bot, "--local"], foreground=True)
        else:
            # No terminal to chat in: the local bot runs with an input that stays open, so it idles.
            supervisor.spawn("bot", [*bot, "--local"], hold_stdin=True)
        say("dit: Ctrl-C stops everything")
        return run_outcome(supervisor.wait_any())
    finally:
        try:
            supervisor.stop_all()
        finally:
            services.stop()


def command_test(pytest_args: Sequence[str]) -> int:
    home = _load_env()
    services = EmbeddedServices(home)
    services.start()
    python = sys.executable
    steps: list[tuple[str, list[str]]] = [
        ("ruff check", [python, "-m", "ruff", "check", "."]),
        ("ruff format", [python, "-m", "ruff", "format", "--check", "."]),
        ("mypy", [python, "-m", "mypy", "."]),
        ("django check", [python, "manage.py", "check"]),
        ("migrations", [python, "manage.py", "makemigrations", "--check", "--dry-run"]),
        (
            "pytest",
            [
                python,
                "-m",
                "pytest",
                "--cov",
                "--cov-branch",
                "--cov-report=term:skip-covered",
                "--durations=15",
                *pytest_args,
            ],
        ),
    ]
    try:
        for name, argv in steps:
            print(f"dit: {name}", flush=True)
            code = subprocess.run(argv, cwd=ROOT, check=False).returncode  # noqa: S603
            if code != 0:
                print(f"dit: {name} failed (exit code {code})", flush=True)
                return code
        return 0
    finally:
        services.stop()


def command_services(action: str) -> int:
    home = _load_env()
    if action == "start":
        EmbeddedServices(home).start()
    elif action == "stop":
        embedded.stop_redis(home)
        embedded.stop_postgres(home)
    elif action == "status":
        for status in embedded.status(home):
            print(f"{status.name}: {'running' if status.running else 'stopped'} ({status.location})")
    else:
        print("usage: services start|stop|status")
        return 2
    return 0


def main(argv: Sequence[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, rest = argv[0], list(argv[1:])
    if command == "run":
        return command_run()
    if command == "test":
        return command_test(rest)
    if command == "services":
        return command_services(rest[0] if rest else "status")
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
