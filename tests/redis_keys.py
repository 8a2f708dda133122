"""Redis key prefixes of one test's own: the Redis server is shared, so a test cleans up only its own keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings


def delete_keys(*patterns: str) -> None:
    """Delete every key matching any of the glob `patterns` (and no other) from the shared Redis."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = [key for pattern in patterns for key in client.scan_iter(match=pattern, count=500)]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextmanager
def redis_key_prefix(area: str) -> Iterator[str]:
    """A fresh prefix `dit:<area>:<random>`; every key under it is deleted on the way out."""
    prefix = f"dit:{area}:{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        delete_keys(f"{prefix}:*")
