"""What an event does to triggers, in the transaction that emits it (the outbox).

Every declaration listening to the event's kind creates, moves, updates or cancels its rows here, and
events carrying wake keys make the triggers listing them due. All of it commits or rolls back with the
state change that caused the event, so nothing is lost if the process dies after commit and nothing
happens for a change that was rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reactor import rows
from reactor.choices import Combine
from reactor.declare import (
    After,
    Composite,
    Declaration,
    Delay,
    On,
    Registry,
    When,
    describe,
    everywhere,
    mode_of,
    registry,
)
from reactor.models import ReactorEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Applied:
    """How many rows an event created or moved, cancelled and woke."""

    written: int = 0
    cancelled: int = 0
    woken: int = 0


@dataclass(frozen=True, slots=True)
class EventRow:
    """The event row to append: its columns, JSON encoded."""

    kind: str
    payload_json: str
    guild_id: str
    channel_id: str
    idempotency_key: str | None


_EVENT_COLUMNS = "kind, payload, guild_id, channel_id, idempotency_key"
_EVENT_VALUES = "%(ev_kind)s, %(ev_payload)s::jsonb, %(ev_guild_id)s, %(ev_channel_id)s, %(ev_key)s"


@dataclass(frozen=True, slots=True)
class Offer:
    """A trigger row an event offers, and how it merges into a waiting row with its dedupe key."""

    row: rows.TriggerRow
    on_conflict: str | None = rows.KEEP
    extra: tuple[tuple[str, Any], ...] = ()


def writes_for(event: ReactorEvent, *, declarations: Registry = registry) -> list[rows.Write]:
    """What every declaration listening to `event`, and every wake key it carries, writes to triggers.

    `event` is not stored yet: its `created_at` is the time the writes are computed against, and they
    take their parent and times from the stored row inside the event's statement. The rows offered with
    the same merge rule go in one write.
    """
    writes: list[rows.Write] = []
    offers: dict[tuple[str | None, tuple[tuple[str, Any], ...]], list[rows.TriggerRow]] = {}
    for declaration in declarations.for_event(event.kind):
        for effect in _apply(declaration, event):
            if isinstance(effect, Offer):
                offers.setdefault((effect.on_conflict, effect.extra), []).append(effect.row)
            else:
                writes.append(effect)
    for (on_conflict, extra), offered in offers.items():
        writes.append(
            rows.upsert_rows_write(offered, event_at=event.created_at, on_conflict=on_conflict, extra=dict(extra))
        )
    keys = declarations.wake_keys_for(event)
    if keys:
        writes.append(rows.wake_write(keys, after_event=True))
    return writes


def emit_statement(row: EventRow, writes: list[rows.Write]) -> tuple[str, dict[str, Any]]:
    """One statement appending the event and making every write it causes; nothing but the event row's
    absence (a used idempotency key) stops them.

    It returns the event's id and time, how many rows each effect touched, and sends the dispatcher a
    NOTIFY when a trigger became due sooner. Each write touches rows no other write of the same event does
    (a declaration's dedupe keys carry its kind), as one statement's parts must.
    """
    params: dict[str, Any] = {
        "ev_kind": row.kind,
        "ev_payload": row.payload_json,
        "ev_guild_id": row.guild_id,
        "ev_channel_id": row.channel_id,
        "ev_key": row.idempotency_key,
    }
    parts = [
        f"{rows.EVENT} AS (INSERT INTO {ReactorEvent._meta.db_table} ({_EVENT_COLUMNS}) "  # noqa: S608
        f"VALUES ({_EVENT_VALUES}) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, created_at)"
    ]
    counts: dict[str, list[str]] = {"written": [], "cancelled": [], "woken": []}
    sooner: list[str] = []
    for index, write in enumerate(writes):
        name = f"w{index}"
        named = write.named(f"{name}_")
        parts.append(f"{name} AS ({named.sql})")
        params.update(named.params)
        counts[write.effect].append(f"(SELECT count(*) FROM {name})")  # noqa: S608 - generated names
        if write.effect == "written":
            sooner.append(f"EXISTS (SELECT 1 FROM {name} WHERE sooner)")  # noqa: S608 - generated names
        elif write.effect == "woken":
            sooner.append(f"EXISTS (SELECT 1 FROM {name})")  # noqa: S608 - generated names
    totals = [" + ".join(counts[effect]) or "0" for effect in ("written", "cancelled", "woken")]
    notify = "NULL"
    if sooner and rows.notify_enabled():
        notify = f"CASE WHEN {' OR '.join(sooner)} THEN pg_notify('{rows.WAKE_CHANNEL}', '')::text END"
    statement = f"WITH {', '.join(parts)} SELECT {rows.EVENT}.id, {rows.EVENT}.created_at, {', '.join(totals)}, {notify} FROM {rows.EVENT}"  # noqa: S608, E501
    return statement, params


def _apply(declaration: Declaration, event: ReactorEvent) -> list[rows.Write | Offer]:
    condition = declaration.condition
    if isinstance(condition, Composite):
        return _composite(declaration, condition, event)
    if isinstance(condition, After):
        return _after(declaration, condition, event)
    if isinstance(condition, When):
        return _when(declaration, condition, event)
    if isinstance(condition, On):
        return _on(declaration, condition, event)
    return []


def _matches(part: On | After | When, event: ReactorEvent) -> bool:
    return event.kind in part.kinds and (part.match is None or part.match(event))


def _delay(delay: Delay | None, event: ReactorEvent) -> timedelta | None:
    if delay is None or isinstance(delay, timedelta):
        return delay
    return delay(event)


def _row(declaration: Declaration, event: ReactorEvent, *, key: str | None, due_at: datetime | None) -> rows.TriggerRow:
    return rows.TriggerRow(
        kind=declaration.kind,
        mode=mode_of(declaration.condition),
        predicate=describe(declaration.condition),
        due_at=due_at,
        guild_id=event.guild_id,
        channel_id=event.channel_id,
        max_attempts=declaration.max_attempts,
        dedupe_key=f"{declaration.kind}:{key}" if key is not None else None,
        # The event's id is set from the stored row (`rows.upsert_rows_write`).
        payload={"event": {"id": None, "kind": event.kind, **dict(event.payload)}},
    )


def _upsert(
    row: rows.TriggerRow, *, on_conflict: str | None = rows.KEEP, extra: dict[str, Any] | None = None
) -> list[rows.Write | Offer]:
    return [Offer(row, on_conflict, tuple(sorted((extra or {}).items())))]


def _cancel(declaration: Declaration, event: ReactorEvent, dedupe_key: str) -> list[rows.Write | Offer]:
    reason = f"cancelled by {event.kind}"
    return [rows.cancel_write(kind=declaration.kind, dedupe_key=dedupe_key, reason=reason, after_event=True)]


def _on(declaration: Declaration, condition: On, event: ReactorEvent) -> list[rows.Write | Offer]:
    if not _matches(condition, event):
        return []
    key = condition.key(event) if condition.key is not None else None
    delay = _delay(condition.delay, event) or timedelta(0)
    return _upsert(_row(declaration, event, key=key, due_at=event.created_at + delay))


def _after(declaration: Declaration, condition: After, event: ReactorEvent) -> list[rows.Write | Offer]:
    key = condition.key(event) if condition.key is not None else None
    if event.kind in condition.cancel_on and key is not None:
        return _cancel(declaration, event, f"{declaration.kind}:{key}")
    if not _matches(condition, event):
        return []
    delay = _delay(condition.delay, event)
    if delay is None:
        return []
    row = _row(declaration, event, key=key, due_at=event.created_at + delay)
    if condition.debounce:
        extra = {"granularity": rows.debounce_granularity(delay)}
        return _upsert(row, on_conflict=rows.RESET, extra=extra)
    return _upsert(row)


def _when(declaration: Declaration, condition: When, event: ReactorEvent) -> list[rows.Write | Offer]:
    if not _matches(condition, event):
        return []
    key = (condition.key or everywhere)(event)
    due_at = event.created_at + (condition.debounce or timedelta(0))
    return _upsert(_row(declaration, event, key=key, due_at=due_at), on_conflict=rows.ARM)


def _composite(declaration: Declaration, condition: Composite, event: ReactorEvent) -> list[rows.Write | Offer]:
    key = (condition.key or everywhere)(event)
    if key is None:
        return []
    dedupe_key = f"{declaration.kind}:{key}"
    timer = condition.timer
    if timer is not None and event.kind in timer.cancel_on:
        return _cancel(declaration, event, dedupe_key)
    bits = 0
    for index, part in enumerate(condition.event_parts):
        if _matches(part, event):
            bits |= 1 << index
    timer_at: datetime | None = None
    if timer is not None and _matches(timer, event):
        delay = _delay(timer.delay, event)
        if delay is not None:
            timer_at = event.created_at + delay
    touched = any(_matches(check, event) for check in condition.checks)
    if not bits and timer_at is None and not touched:
        return []
    row = _row(declaration, event, key=key, due_at=_fresh_due(condition, bits, timer_at, event.created_at, touched))
    row.combine = condition.combine
    row.parts_all = condition.all_bits
    row.parts_met = bits
    row.timer_at = timer_at
    row.expires_at = event.created_at + condition.within if condition.within else None
    return _upsert(
        row,
        on_conflict=_composite_update(condition, timer_matched=timer_at is not None),
        extra={"touched": touched},
    )


def _fresh_due(
    condition: Composite, bits: int, timer_at: datetime | None, now: datetime, touched: bool
) -> datetime | None:
    """The due time of a composite row created by this event (the SQL below computes it for an existing row)."""
    if condition.combine == Combine.ALL:
        if bits & condition.all_bits != condition.all_bits:
            return None
        return timer_at if condition.timer is not None else now
    return now if bits or touched else timer_at


def _composite_update(condition: Composite, *, timer_matched: bool) -> str:
    """The SET clause merging an event into a waiting composite row: bits OR-ed in, timer kept or reset."""
    met = "(t.parts_met | EXCLUDED.parts_met)"
    timer = condition.timer
    if timer is None or not timer_matched:
        timer_sql = "t.timer_at"
    elif timer.debounce:
        timer_sql = "EXCLUDED.timer_at"
    else:
        timer_sql = "COALESCE(t.timer_at, EXCLUDED.timer_at)"
    if condition.combine == Combine.ALL:
        when_done = timer_sql if timer is not None else "statement_timestamp()"
        due = f"CASE WHEN ({met} & t.parts_all) = t.parts_all THEN {when_done} ELSE NULL END"
    else:
        due = f"CASE WHEN ({met} & t.parts_all) <> 0 OR %(touched)s THEN statement_timestamp() ELSE {timer_sql} END"
    return (
        f"parts_met = {met}, timer_at = {timer_sql}, due_at = {due}, status = 'pending', lease_until = NULL, "
        "parent_event_id = EXCLUDED.parent_event_id, updated_at = statement_timestamp()"
    )
