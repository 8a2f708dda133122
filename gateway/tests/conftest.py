"""Fixtures of the gateway tests: isolated settings and Redis keys, providers on local servers, a live gateway."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from gateway.models import Provider
from gateway.tests.factories import ProviderFactory
from tests.redis_keys import redis_key_prefix
from tests.servers.openai_server import OpenAIServer
from tests.servers.project_server import project_server


@pytest.fixture(autouse=True)
def isolated_gateway(settings: Any) -> Iterator[str]:
    """No default provider or remote gateway from the developer's environment; Redis keys of this test's own."""
    with redis_key_prefix("test_gateway") as prefix:
        settings.OPENAI_BASE_URL = ""
        settings.OPENAI_API_KEY = ""
        for tier in ("LOW", "MID", "HIGH", "EMBED"):
            setattr(settings, f"DIT_MODEL_{tier}", "")
        settings.DIT_GATEWAY_URL = ""
        settings.DIT_GATEWAY_TOKEN = ""
        settings.DIT_BOT_ID = None
        settings.DIT_GATEWAY_REDIS_PREFIX = prefix
        settings.DIT_GATEWAY_RETRY_AFTER_CAP_SECONDS = 0.2
        settings.DIT_GATEWAY_COOLDOWN_AFTER_FAILURES = 2
        settings.DIT_GATEWAY_COOLDOWN_BASE_SECONDS = 30.0
        settings.DIT_GATEWAY_COOLDOWN_MAX_SECONDS = 300.0
        yield prefix


@pytest.fixture
def redis_keys(settings: Any) -> Callable[[], dict[str, str]]:
    """Read every gateway key of this test (name without prefix to value) from Redis."""

    def read() -> dict[str, str]:
        prefix = settings.DIT_GATEWAY_REDIS_PREFIX
        client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
        try:
            return {name[len(prefix) + 1 :]: str(client.get(name)) for name in client.scan_iter(match=f"{prefix}:*")}
        finally:
            client.close()

    return read


@pytest.fixture
def provider_on(db: Any) -> Callable[..., Provider]:
    """Make a Provider row that points at a local OpenAI server."""

    def make(server: OpenAIServer, **fields: Any) -> Provider:
        return ProviderFactory.create(base_url=server.base_url, **fields)

    return make


@pytest.fixture
def gateway_server(transactional_db: Any) -> Iterator[str]:
    """The whole project under uvicorn (ASGI) on 127.0.0.1 with a free port; yields the base URL."""
    with project_server(ws="none", name="gateway-uvicorn") as url:
        yield url
