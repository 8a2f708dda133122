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
        ]
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
