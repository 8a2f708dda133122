from unittest import mock

import pytest


@pytest.mark.django_db
def test_health_reports_ok_when_database_and_redis_answer(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.django_db
def test_health_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("down")
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_health_is_503_when_the_database_is_down(client):
    with mock.patch("dit_project.health.connection.cursor", side_effect=Exception("connection refused")):
        response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down: Exception"
