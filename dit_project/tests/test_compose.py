"""docker-compose.yml is the production shape and valid against the Compose specification."""

from pathlib import Path

import pytest
from compose_spec import PyCompose, PyOptions

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> PyCompose:
    # apply_merge resolves the `<<: *app` anchors the way `docker compose config` does.
    document = PyOptions(apply_merge=True).from_yaml(COMPOSE_FILE.read_text())
    document.validate()
    document.to_spec()  # full validation against the specification's models
    return document


def test_compose_file_validates_against_the_compose_specification(compose):
    assert set(compose.service_names()) == {"postgres", "redis", "migrate", "web", "worker", "reactor", "bot"}


def test_compose_spec_validation_rejects_a_misspelt_service_key():
    broken = COMPOSE_FILE.read_text().replace("    image: pgvector/pgvector:pg18", "    imag: pgvector/pgvector:pg18")

    with pytest.raises(ValueError, match="imag"):
        PyOptions(apply_merge=True).from_yaml(broken).validate()


def test_compose_runs_postgres_with_pgvector_18_and_redis_7(compose):
    services = compose.to_dict()["services"]

    assert services["postgres"]["image"] == "pgvector/pgvector:pg18"
    assert services["postgres"]["command"] == ["postgres", "-c", "shared_buffers=${POSTGRES_SHARED_BUFFERS:-1GB}"]
    assert services["redis"]["image"] == "redis:7"


def test_compose_runs_web_on_asgi_a_celery_worker_the_reactor_and_a_bot(compose):
    services = compose.to_dict()["services"]

    assert services["web"]["command"][:2] == ["uvicorn", "dit_project.asgi:application"]
    assert services["worker"]["command"][:3] == ["celery", "-A", "dit_project"]
    assert services["reactor"]["command"] == ["python", "manage.py", "reactor"]
    assert services["bot"]["command"][:3] == ["python", "manage.py", "runbot"]
    for name in ("web", "worker", "reactor", "bot"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_every_app_service_of_compose_requires_the_env_file(compose):
    services = compose.to_dict()["services"]

    for name in ("migrate", "web", "worker", "reactor", "bot"):
        env_files = services[name]["env_file"]
        # `required` defaults to true in the Compose specification; it must not be switched off.
        assert [(entry["path"], entry.get("required", True)) for entry in env_files] == [(".env", True)], name


def test_the_reactor_starts_after_migrations_and_workers_keep_their_connections(compose):
    services = compose.to_dict()["services"]

    assert services["reactor"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["environment"]["DATABASE_CONN_MAX_AGE"] == "600"
    assert services["worker"]["environment"]["DATABASE_POOL"] == "0"
    assert "DATABASE_CONN_MAX_AGE" not in services["web"]["environment"]
