"""With DEBUG off the settings refuse a missing or published key, and `check --deploy` finds nothing to warn of."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from dit_project import embedded

ROOT = Path(__file__).resolve().parents[2]
# Published in settings.py: never good enough with DEBUG off.
DEVELOPMENT_SECRET_KEY = "dit-insecure-development-key-change-me-in-production"


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of compose's app services with a good .env: no .env file read, nothing embedded."""
    dead = embedded._free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(ROOT)),
        "DIT_READ_DOTENV": "0",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DIT_SECRETS_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "dit.example.org",
        # Nothing listens there: settings must not need a database or Redis to load.
        "DATABASE_URL": f"postgres://dit:dit@127.0.0.1:{dead}/dit",
        "REDIS_URL": f"redis://127.0.0.1:{dead}/0",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "key",
    [pytest.param("", id="missing"), pytest.param(DEVELOPMENT_SECRET_KEY, id="the-published-development-key")],
)
def test_with_debug_off_a_missing_or_published_secret_key_refuses_to_start(key):
    env = production_env(SECRET_KEY=key)

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY is not set (or is the published development key) and DEBUG is off" in result.stderr


def test_with_debug_off_an_empty_secrets_key_list_refuses_to_start():
    result = manage("check", env=production_env(DIT_SECRETS_KEYS=""))

    assert result.returncode != 0
    assert "DIT_SECRETS_KEYS is empty and DEBUG is off" in result.stderr


def test_with_debug_on_the_development_key_still_serves_development():
    result = manage("check", env=production_env(DEBUG="1", SECRET_KEY="", DIT_SECRETS_KEYS=""))

    assert result.returncode == 0, result.stderr


def test_check_deploy_under_the_production_settings_reports_nothing():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_https_settings_can_be_turned_off_from_the_environment_and_check_deploy_then_warns():
    env = production_env(SECURE_SSL_REDIRECT="0", SESSION_COOKIE_SECURE="0", CSRF_COOKIE_SECURE="0")

    result = manage("check", "--deploy", env=env)

    for warning in ("security.W008", "security.W012", "security.W016"):
        assert warning in result.stdout + result.stderr
