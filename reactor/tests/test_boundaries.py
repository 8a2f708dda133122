"""The reactor is infrastructure: it imports no app, its migrations depend on none, and nothing runs on cron."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings

from dit_project.celery import app
from reactor.migrations import __path__ as migrations_path

ROOT = Path(__file__).resolve().parents[2]
REACTOR = ROOT / "reactor"
APPS = frozenset({"bots", "dispositions", "memory", "gateway", "steward"})


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_of_the_reactor_imports_another_app():
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in REACTOR.rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[0] in APPS
    }

    assert offenders == set()


def test_the_import_check_would_catch_an_app_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from dispositions.models import DispositionDecision\nimport memory.ingest\n")

    assert {module.split(".")[0] for module in _imported_modules(sample)} & APPS == {"dispositions", "memory"}


def test_the_reactors_migrations_depend_on_no_other_app():
    dependencies = set()
    for path in Path(migrations_path[0]).glob("0*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "dependencies" for t in node.targets):
                dependencies |= {elt.elts[0].value for elt in node.value.elts}  # type: ignore[attr-defined]

    assert dependencies <= {"reactor"}


_FORBIDDEN = re.compile(r"beat_schedule|crontab|periodic_task|add_periodic_task|django_celery_beat|celery beat", re.I)
_SCANNED = ("*.py", "*.yml", "*.yaml", "*.toml", "*.txt", "*.cfg", "Dockerfile", "Makefile", "*.json")
_SKIPPED = (".venv", ".dit", "staticfiles", "node_modules", ".git", ".mypy_cache", ".ruff_cache")


def test_no_beat_schedule_crontab_or_periodic_task_exists_in_the_codebase():
    this = Path(__file__).resolve()
    hits = []
    for pattern in _SCANNED:
        for path in ROOT.rglob(pattern):
            if path.resolve() == this or any(part in _SKIPPED for part in path.relative_to(ROOT).parts):
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if _FORBIDDEN.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")

    assert hits == []


def test_the_celery_app_has_no_beat_schedule():
    assert not app.conf.beat_schedule
    assert not [name for name in dir(settings) if name.startswith("CELERY_BEAT")]
