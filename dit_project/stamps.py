"""Change stamps: one Redis counter per cached kind of row, bumped when those rows change.

A long-running process (a bot's host) keeps rows it reads on every turn (a persona's dispositions, a bot's
mutes) and compares their stamp, one MGET for all of them, instead of reading the rows again. A write bumps
the stamp at once and again after commit, so a reader that loaded the old rows in between reloads them.
Losing Redis loses nothing: a missing stamp reads as "changed".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def stamp_key(name: str) -> str:
    """The Redis key of a stamp."""
    return f"{settings.DIT_STAMP_PREFIX}:{name}"


def _bump_now(name: str) -> None:
    try:
        with redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2) as client:
            client.incr(stamp_key(name))
    except redis.RedisError as exc:
        # Readers also expire what they cached after a while; the write itself must not fail.
        logger.warning("could not bump change stamp %s: %s", name, exc)


def bump(name: str) -> None:
    """Mark the rows behind `name` changed: now, and once the surrounding transaction commits."""
    _bump_now(name)
    transaction.on_commit(lambda: _bump_now(name))


async def read(client: aioredis.Redis, names: Sequence[str]) -> tuple[bytes | None, ...]:
    """The current value of each stamp (None when never bumped), in one round trip."""
    if not names:
        return ()
    values = await client.mget([stamp_key(name) for name in names])
    return tuple(values)
