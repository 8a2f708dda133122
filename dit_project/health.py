"""`/health`: whether the database and Redis answer. 503 when either is down."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


def check_database() -> str:
    """'ok' or the reason the database did not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any driver error means "down"; the reason is reported, not hidden
        logger.warning("health: database down: %s", exc)
        return f"down: {exc.__class__.__name__}"
    return "ok"


def check_redis() -> str:
    """'ok' or the reason Redis did not answer."""
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        logger.warning("health: redis down: %s", exc)
        return f"down: {exc.__class__.__name__}"
    return "ok"


def health(request: HttpRequest) -> JsonResponse:
    """Report each dependency; any one down makes the whole answer 503."""
    checks = {"database": check_database(), "redis": check_redis()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", "checks": checks}, status=200 if healthy else 503)
