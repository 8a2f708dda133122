"""The gateway's shared state in Redis (quotas, provider cooldowns): one client per event loop, prefixed keys.

An asyncio Redis client belongs to the loop it first ran on, so each loop gets its own; the map is weak
so a finished loop's client goes with it. Keys start with `settings.DIT_GATEWAY_REDIS_PREFIX`, so tests
and several deployments can share one Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

from dit_project import redis_clients

logger = logging.getLogger(__name__)

# Bumped whenever a provider, price, policy or fallback changes, so every process drops cached plans.
CONFIG_VERSION = "config-version"

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, aioredis.Redis]] = weakref.WeakKeyDictionary()


def redis_client() -> aioredis.Redis:
    """The Redis client of the running loop (made on first use, remade if REDIS_URL changed)."""
    loop = asyncio.get_running_loop()
    url = settings.REDIS_URL
    cached = _clients.get(loop)
    if cached is not None and cached[0] == url:
        return cached[1]
    # Reconnects by itself after a Redis restart (dit_project.redis_clients).
    client: aioredis.Redis = aioredis.Redis.from_url(url, **redis_clients.client_options(for_asyncio=True))
    _clients[loop] = (url, client)
    return client


def key(*parts: object) -> str:
    """A Redis key under the configured gateway prefix."""
    return ":".join([settings.DIT_GATEWAY_REDIS_PREFIX, *(str(part) for part in parts)])


def bump_config_version() -> None:
    """Tell every process that routing configuration changed (blocking; called on config saves)."""
    try:
        with redis.Redis.from_url(settings.REDIS_URL, **redis_clients.client_options()) as client:
            client.set(key(CONFIG_VERSION), f"{time.time_ns()}")
    except redis.RedisError as exc:
        # Cached plans still expire after routing.PLAN_MAX_AGE_SECONDS; the edit itself must not fail.
        logger.warning("gateway: could not announce a configuration change: %s", exc)
