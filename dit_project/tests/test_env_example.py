"""`.env.example` names every variable the settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ_PATTERN = re.compile(r"""env(?:\.(?:str|bool|int|float|list|db|json))?\(\s*["']([A-Z][A-Z0-9_]+)["']""")
ENVIRON_PATTERN = re.compile(r"""os\.environ(?:\.get)?[\[(]\s*["']([A-Z][A-Z0-9_]+)["']""")


def _variables_read() -> set[str]:
    names: set[str] = set()
    for path in [ROOT / "dit_project" / "settings.py", ROOT / "dit_project" / "devstack.py"]:
        text = path.read_text()
        names |= set(READ_PATTERN.findall(text)) | set(ENVIRON_PATTERN.findall(text))
    return names - {"DJANGO_SETTINGS_MODULE"}


def test_every_variable_the_settings_read_is_listed_in_env_example():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))

    missing = _variables_read() - listed

    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_the_scan_finds_the_core_variables():
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"} <= _variables_read()
