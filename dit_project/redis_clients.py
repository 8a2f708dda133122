"""How every Redis client of the project connects: it reconnects by itself after Redis restarts.

A pooled connection to a Redis that restarted is dead; without a retry the first command on it fails.
With these options a command that hits a dropped connection reconnects and is tried again (a few
times, with a short backoff), and idle connections are checked before use. This module imports nothing
from Django so that settings can use it.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio.retry
import redis.backoff
import redis.retry

RETRIES = 3
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 0.5
HEALTH_CHECK_INTERVAL_SECONDS = 15
CONNECT_TIMEOUT_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 5.0


def client_options(*, for_asyncio: bool = False) -> dict[str, Any]:
    """Keyword arguments for `Redis.from_url` (or a connection pool) of redis-py, sync or asyncio."""
    backoff = redis.backoff.ExponentialBackoff(cap=BACKOFF_CAP_SECONDS, base=BACKOFF_BASE_SECONDS)
    retry: Any = redis.asyncio.retry.Retry(backoff, RETRIES) if for_asyncio else redis.retry.Retry(backoff, RETRIES)
    return {
        "retry": retry,
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
        "health_check_interval": HEALTH_CHECK_INTERVAL_SECONDS,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": SOCKET_TIMEOUT_SECONDS,
    }
