"""Writes of the reactor app: appending events (and their triggers), scheduling, cancelling, requeueing,
and the deliveries handed to long-running processes."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from reactor import rows
from reactor.choices import WAITING_STATUSES, DeliveryStatus, EventKind, TriggerStatus
from reactor.declare import describe, mode_of, registry
from reactor.errors import InvalidEvent, InvalidTrigger, TriggerNotFound, TriggerNotRequeueable
from reactor.models import Delivery, ReactorEvent, Trigger
from reactor.outbox import Applied, EventRow, emit_statement, writes_for
from reactor.signals import event_committed

logger = logging.getLogger(__name__)

_EVENT_KINDS = frozenset(EventKind.values)

# What `schedule` does when a trigger with the same dedupe key is already waiting.
KEEP = "keep"
REPLACE = "replace"
EARLIEST = "earliest"
_ON_CONFLICT = {KEEP: rows.KEEP, REPLACE: rows.REPLACE, EARLIEST: rows.EARLIEST}


def emit_event(
    kind: EventKind | str,
    payload: Mapping[str, Any],
    *,
    guild_id: str,
    channel_id: str,
    idempotency_key: str | None = None,
) -> ReactorEvent | None:
    """Append an event and apply it to triggers, all in the caller's transaction; None when its key was used."""
    if kind not in _EVENT_KINDS:
        raise InvalidEvent(f"unknown event kind {kind!r}; declare it in reactor.choices.EventKind", kind=str(kind))
    if idempotency_key == "":
        raise InvalidEvent("idempotency_key must be None or a non-empty string")
    try:
        payload_json = json.dumps(dict(payload), cls=DjangoJSONEncoder)
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"payload of {kind} event is not JSON-serializable: {exc}", kind=str(kind)) from exc
    event = ReactorEvent(
        kind=str(kind),
        # As a reload would give it: declarations and receivers see the same JSON as a read of the row.
        payload=json.loads(payload_json),
        guild_id=guild_id,
        channel_id=channel_id,
        idempotency_key=idempotency_key,
        created_at=timezone.now(),
    )
    # Raw SQL, one statement for the event and every trigger it creates, moves, cancels or wakes: it sits
    # on the message ingest hot path, and the ORM has no INSERT ... ON CONFLICT DO NOTHING RETURNING.
    statement, params = emit_statement(
        EventRow(str(kind), payload_json, guild_id, channel_id, idempotency_key), writes_for(event)
    )
    # One statement: inside the caller's transaction it commits or rolls back with the state change, and on
    # its own the event and its triggers are stored together or not at all.
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        logger.debug("reactor event %s with key %s already recorded", kind, idempotency_key)
        return None
    event.pk, event.created_at = row[0], row[1]
    event._state.adding = False
    event._state.db = connection.alias
    applied = Applied(written=row[2], cancelled=row[3], woken=row[4])
    if applied != Applied():
        logger.debug("reactor event %s (%s): %s", event.pk, kind, applied)
    # Receivers must never act on an event whose transaction rolls back.
    transaction.on_commit(partial(_announce, event))
    return event


def _announce(event: ReactorEvent) -> None:
    for receiver, result in event_committed.send_robust(sender=ReactorEvent, event=event):
        if isinstance(result, Exception):
            logger.error("receiver %s failed on reactor event %s (%s)", receiver, event.pk, event.kind, exc_info=result)


def schedule(
    kind: str,
    *,
    due_at: datetime | None,
    payload: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
    on_conflict: str = KEEP,
    guild_id: str = "",
    channel_id: str = "",
    expires_at: datetime | None = None,
    wake_keys: Sequence[str] = (),
    parent_event_id: int | None = None,
    parent_trigger_id: uuid.UUID | None = None,
    trigger_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Create a trigger of a declared kind due at `due_at` (None: only when woken); returns its id.

    With a `dedupe_key` already waiting, `on_conflict` says what happens: keep the waiting row (`keep`),
    replace its due time and payload (`replace`), or move it earlier only (`earliest`); the waiting row's
    id is returned. Runs in the caller's transaction; the dispatcher hears of it on commit.
    """
    declaration = registry.get(kind)
    if declaration is None:
        raise InvalidTrigger(f"no trigger kind {kind!r} is declared; declare it in an app's triggers.py", kind=kind)
    for name, moment in (("due_at", due_at), ("expires_at", expires_at)):
        if moment is not None and moment.utcoffset() is None:
            raise InvalidTrigger(f"{name} must be a timezone-aware datetime", field=name)
    if on_conflict not in _ON_CONFLICT:
        raise InvalidTrigger(f"on_conflict must be one of {sorted(_ON_CONFLICT)}", field="on_conflict")
    try:
        data = json.loads(json.dumps(dict(payload or {}), cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise InvalidTrigger(f"payload of {kind} trigger is not JSON-serializable: {exc}", kind=kind) from exc
    row = rows.TriggerRow(
        kind=kind,
        mode=mode_of(declaration.condition),
        predicate=describe(declaration.condition),
        due_at=due_at,
        payload=data,
        guild_id=guild_id,
        channel_id=channel_id,
        expires_at=expires_at,
        max_attempts=declaration.max_attempts,
        dedupe_key=dedupe_key,
        wake_keys=list(wake_keys),
        parent_event_id=parent_event_id,
        parent_trigger_id=parent_trigger_id,
        id=trigger_id or uuid.uuid4(),
    )
    written = rows.upsert(row, on_conflict=_ON_CONFLICT[on_conflict])
    if written.id is not None:
        return written.id
    # A waiting row kept its place: hand back its id.
    existing = Trigger.objects.filter(dedupe_key=dedupe_key, status__in=WAITING_STATUSES).values_list("id", flat=True)
    found = existing.first()
    if found is None:  # pragma: no cover - the conflicting row finished between the two statements
        return schedule(kind, due_at=due_at, payload=payload, dedupe_key=dedupe_key, on_conflict=on_conflict)
    return found


def cancel(*, kind: str, dedupe_key: str, reason: str = "cancelled") -> bool:
    """Cancel the waiting trigger of `kind` with `dedupe_key`; False when none was waiting."""
    return rows.cancel_by_key(kind=kind, dedupe_key=dedupe_key, reason=reason[:500]) > 0


def trigger_cancel(*, trigger_id: uuid.UUID, reason: str = "cancelled by staff") -> bool:
    """Cancel one waiting trigger by id; False when it had already started or finished."""
    changed = Trigger.objects.filter(pk=trigger_id, status__in=WAITING_STATUSES).update(
        status=TriggerStatus.CANCELLED,
        last_error=reason[:500],
        finished_at=timezone.now(),
        lease_until=None,
        updated_at=timezone.now(),
    )
    return changed == 1


def trigger_requeue(*, trigger_id: uuid.UUID) -> Trigger:
    """Give a dead or cancelled trigger a fresh set of attempts, due now (the admin's requeue action)."""
    now = timezone.now()
    with transaction.atomic():
        changed = Trigger.objects.filter(
            pk=trigger_id, status__in=(TriggerStatus.DEAD, TriggerStatus.CANCELLED)
        ).update(
            status=TriggerStatus.PENDING,
            due_at=now,
            attempts=0,
            lease_until=None,
            finished_at=None,
            updated_at=now,
        )
        if changed != 1:
            if not Trigger.objects.filter(pk=trigger_id).exists():
                raise TriggerNotFound(f"no trigger {trigger_id}")
            raise TriggerNotRequeueable(f"trigger {trigger_id} is neither dead nor cancelled; it cannot be requeued")
        rows.notify_now()
    logger.info("reactor trigger %s requeued", trigger_id)
    return Trigger.objects.get(pk=trigger_id)


# Deliveries ----------------------------------------------------------------------------------------


def delivery_create(
    *,
    trigger_id: uuid.UUID,
    recipient: str,
    kind: str,
    payload: Mapping[str, Any],
    expires_at: datetime,
) -> Delivery:
    """Hand work to a long-running recipient: a row keyed by the trigger id, announced on the layer after commit.

    Idempotent on the trigger id: a trigger that runs its effect again finds its delivery already made.
    """
    delivery, created = Delivery.objects.get_or_create(
        trigger_id=trigger_id,
        defaults={"recipient": recipient, "kind": kind, "payload": dict(payload), "expires_at": expires_at},
    )
    if created:
        transaction.on_commit(partial(_announce_delivery, recipient, str(trigger_id)))
    return delivery


def _announce_delivery(recipient: str, delivery_id: str) -> None:
    # Imported here: the layer is only needed by processes that hand work to a recipient.
    from reactor.delivery import announce

    announce(recipient, delivery_id)


def delivery_claim(
    *, delivery_id: uuid.UUID, recipient: str, now: datetime | None = None, kinds: Sequence[str] | None = None
) -> Delivery | None:
    """Take a waiting delivery for `recipient` (of one of `kinds`, when given), once: the conditional update
    lets one claimant win."""
    moment = now or timezone.now()
    waiting = Delivery.objects.filter(
        pk=delivery_id, recipient=recipient, status=DeliveryStatus.WAITING, expires_at__gt=moment
    )
    if kinds is not None:
        waiting = waiting.filter(kind__in=list(kinds))
    claimed = waiting.update(status=DeliveryStatus.CLAIMED, claimed_at=moment)
    if claimed != 1:
        return None
    return Delivery.objects.get(pk=delivery_id)


def delivery_finish(*, delivery_id: uuid.UUID, outcome: Mapping[str, Any]) -> bool:
    """Record what the recipient did with a claimed delivery; False unless it was claimed."""
    return (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.CLAIMED).update(
            status=DeliveryStatus.DONE, outcome=dict(outcome), finished_at=timezone.now()
        )
        == 1
    )


def delivery_expire(*, delivery_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Expire a delivery nobody claimed by its expiry time; False when it was claimed (or is not due yet)."""
    moment = now or timezone.now()
    return (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.WAITING, expires_at__lte=moment).update(
            status=DeliveryStatus.EXPIRED, finished_at=moment
        )
        == 1
    )


def trigger_result_merge(*, trigger_id: uuid.UUID, result: Mapping[str, Any]) -> None:
    """Add keys to a trigger's result after it ran (what the recipient of its delivery did)."""
    with transaction.atomic():
        trigger = Trigger.objects.select_for_update().filter(pk=trigger_id).first()
        if trigger is None:
            return
        trigger.result = {**trigger.result, **dict(result)}
        trigger.save(update_fields=["result"])
