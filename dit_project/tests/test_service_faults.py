"""PostgreSQL or Redis down: the API and /v1 answer a JSON 503 in the error shape; Redis restarts on the same
port and clients reconnect by themselves. The services are really stopped and started, or dead ports used."""

from __future__ import annotations

import json
import socket

import pytest
import redis
from django.core.cache.backends.redis import RedisCache
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from dit_project import embedded

pytestmark = pytest.mark.integration

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def own_redis(tmp_path):
    """An embedded Redis of this test's own, in a folder of its own; stopped afterwards."""
    home = tmp_path / "redis-home"
    url = embedded.start_redis(home)
    yield home, url
    embedded.stop_redis(home)


def dead_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cache_on(url: str, settings) -> None:
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": url, "KEY_PREFIX": "test-service-faults"},
    }


def assert_service_unavailable(response, service: str) -> dict:
    assert response.status_code == 503, response.content[:500]
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) >= 1
    error = response.json()["error"]
    assert (error["code"], error["service"]) == ("service_unavailable", service)
    return error


def test_the_api_answers_a_json_503_while_redis_is_down_and_recovers_when_it_is_back(owner, own_redis, settings):
    home, url = own_redis
    cache_on(url, settings)
    client = APIClient()
    client.force_authenticate(owner)
    assert client.get("/api/bots/").status_code == 200

    embedded.stop_redis(home)
    down = client.get("/api/bots/")
    assert embedded.start_redis(home) == url
    back = client.get("/api/bots/")

    error = assert_service_unavailable(down, "redis")
    assert "Redis is not answering" in error["message"]
    assert back.status_code == 200


def test_chat_completions_answer_a_json_503_while_redis_is_down(db, settings, gateway_on_openai_server, own_redis):
    from gateway.services import gateway_token_create

    home, url = own_redis
    shared_url, settings.REDIS_URL = settings.REDIS_URL, url
    _, token = gateway_token_create(bot_id=41, label="tests")
    embedded.stop_redis(home)
    try:
        response = Client().post(
            "/v1/chat/completions",
            data=json.dumps({"model": "auto", "messages": HELLO}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_X_DIT_PURPOSE="synth-mid",
        )
    finally:
        # The shared Redis again for the fixtures that clean this test's keys.
        settings.REDIS_URL = shared_url

    error = assert_service_unavailable(response, "redis")
    assert error["type"] == "service_unavailable_error"
    assert gateway_on_openai_server.chat_requests == []


@pytest.fixture
def postgres_down(django_db_blocker):
    """The default connection pointed at a port where no PostgreSQL listens; restored afterwards."""
    with django_db_blocker.unblock():
        connection = connections["default"]
        saved = dict(connection.settings_dict)
        connection.close()
        # Pooled connections would keep answering: the pool goes too, and comes back with the restored settings.
        connection.close_pool()  # type: ignore[attr-defined]  # the PostgreSQL backend has it
        connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": str(dead_port())})
        try:
            yield
        finally:
            connection.close()
            connection.close_pool()  # type: ignore[attr-defined]  # type: ignore[attr-defined]  # the PostgreSQL backend has it
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


def test_the_api_answers_a_json_503_while_postgresql_is_down(postgres_down):
    token = AccessToken()
    token["user_id"] = 1

    response = Client().get("/api/bots/", HTTP_AUTHORIZATION=f"Bearer {token}")

    error = assert_service_unavailable(response, "database")
    assert "PostgreSQL is not answering" in error["message"]


def test_chat_completions_answer_a_json_503_while_postgresql_is_down(postgres_down):
    response = Client().post(
        "/v1/chat/completions",
        data=json.dumps({"model": "auto", "messages": HELLO}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer dit_some-token",
        HTTP_X_DIT_PURPOSE="synth-mid",
    )

    assert_service_unavailable(response, "database")


def test_redis_restarts_on_the_same_port_while_its_old_connections_linger(own_redis):
    home, url = own_redis
    clients = [redis.Redis.from_url(url) for _ in range(5)]
    for client in clients:
        client.ping()

    # The server closes its clients' connections first, so their ports linger in TIME_WAIT on its side.
    embedded.stop_redis(home)

    assert embedded.start_redis(home) == url
    for client in clients:
        client.close()


def test_the_cache_client_reconnects_after_redis_restarts(own_redis, settings):
    home, url = own_redis
    cache = RedisCache(url, {"OPTIONS": settings.CACHES["default"].get("OPTIONS", {}), "KEY_PREFIX": "reconnect"})
    cache.set("kept", "value")

    embedded.stop_redis(home)
    embedded.start_redis(home)

    # The pooled connection died with the old server; the first command after the restart must not fail.
    assert cache.get("kept") == "value"
