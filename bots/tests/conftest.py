"""Fixtures for bots tests that start `manage.py` in a child process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "manage.py"


@pytest.fixture
def child_env(transactional_db) -> dict[str, str]:
    """Environment for a child `manage.py`: the test database (committed data is visible) and this Redis."""
    db = connection.settings_dict
    query = {"host": db["HOST"], "port": db["PORT"]}
    env = {
        key: value
        for key, value in os.environ.items()
        # The child must see exactly the variables a test gives it, not settings the parent happened to export.
        if not key.startswith(("DISCORD_", "DATABASE_", "WAIT_", "API_SECRET"))
    }
    env.update(
        {
            "DATABASE_URL": f"postgres://{quote(db['USER'] or '')}@/{db['NAME']}?{urlencode(query)}",
            "REDIS_URL": settings.REDIS_URL,
            "DIT_READ_DOTENV": "0",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    return env


@pytest.fixture
def run_manage(child_env) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `manage.py ARGS` to completion in a child process; return its exit code and output."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MANAGE), *args],
            cwd=ROOT,
            env={**child_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run
