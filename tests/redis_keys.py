"""Redis key prefixes of one test's own: the Redis server is shared, so a test cleans up only its own keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings


@contextmanager
def redis_key_prefix(area: str) -> Iterator[str]:
    """A fresh prefix `dit:<area>:<random>`; every key under it is deleted on the way out."""
    prefix = f"dit:{area}:{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
