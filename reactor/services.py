"""Writes of the reactor app: appending to the event log."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from reactor.choices import EventKind
from reactor.errors import InvalidEvent
from reactor.models import ReactorEvent
from reactor.signals import event_committed

logger = logging.getLogger(__name__)

_EVENT_KINDS = frozenset(EventKind.values)

# Raw SQL because the ORM has no INSERT ... ON CONFLICT DO NOTHING RETURNING, and emitting sits on the
# message ingest hot path. NULL keys never conflict, so events without a key are always appended.
_INSERT_EVENT_SQL = (
    f"INSERT INTO {ReactorEvent._meta.db_table} (kind, payload, guild_id, channel_id, idempotency_key) "  # noqa: S608
    "VALUES (%s, %s::jsonb, %s, %s, %s) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, created_at"
)


def emit_event(
    kind: EventKind | str,
    payload: Mapping[str, Any],
    *,
    guild_id: str,
    channel_id: str,
    idempotency_key: str | None = None,
) -> ReactorEvent | None:
    """Append an event in the caller's transaction; return None when its idempotency key was already used."""
    if kind not in _EVENT_KINDS:
        raise InvalidEvent(f"unknown event kind {kind!r}; declare it in reactor.choices.EventKind", kind=str(kind))
    if idempotency_key == "":
        raise InvalidEvent("idempotency_key must be None or a non-empty string")
    try:
        payload_json = json.dumps(dict(payload), cls=DjangoJSONEncoder)
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"payload of {kind} event is not JSON-serializable: {exc}", kind=str(kind)) from exc
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_EVENT_SQL, [str(kind), payload_json, guild_id, channel_id, idempotency_key])
        row = cursor.fetchone()
    if row is None:
        logger.debug("reactor event %s with key %s already recorded", kind, idempotency_key)
        return None
    event = ReactorEvent(
        id=row[0],
        kind=str(kind),
        # As a reload would give it: receivers see the same JSON whether handed the event or reading it.
        payload=json.loads(payload_json),
        guild_id=guild_id,
        channel_id=channel_id,
        idempotency_key=idempotency_key,
        created_at=row[1],
    )
    event._state.adding = False
    event._state.db = connection.alias
    # Receivers (the trigger machinery) must never act on an event whose transaction rolls back.
    transaction.on_commit(partial(_announce, event))
    return event


def _announce(event: ReactorEvent) -> None:
    for receiver, result in event_committed.send_robust(sender=ReactorEvent, event=event):
        if isinstance(result, Exception):
            logger.error("receiver %s failed on reactor event %s (%s)", receiver, event.pk, event.kind, exc_info=result)
