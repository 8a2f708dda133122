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
    """How many rows an event created, moved, cancelled and woke."""

    written: int = 0
    cancelled: int = 0
    woken: int = 0


def apply_event(event: ReactorEvent, *, declarations: Registry = registry) -> Applied:
    """Apply every declaration listening to `event` and every wake key it carries; call inside its transaction."""
    written = cancelled = 0
    for declaration in declarations.for_event(event.kind):
        changed, stopped = _apply(declaration, event)
        written += changed
        cancelled += stopped
    keys = declarations.wake_keys_for(event)
    woken = rows.wake_by_keys(keys) if keys else 0
    return Applied(written=written, cancelled=cancelled, woken=woken)


def _apply(declaration: Declaration, event: ReactorEvent) -> tuple[int, int]:
    condition = declaration.condition
    if isinstance(condition, Composite):
        return _composite(declaration, condition, event)
    if isinstance(condition, After):
        return _after(declaration, condition, event)
    if isinstance(condition, When):
        return _when(declaration, condition, event)
    if isinstance(condition, On):
        return _on(declaration, condition, event)
    return 0, 0


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
        parent_event_id=event.pk,
        payload={"event": {"id": event.pk, "kind": event.kind, **dict(event.payload)}},
    )


def _on(declaration: Declaration, condition: On, event: ReactorEvent) -> tuple[int, int]:
    if not _matches(condition, event):
        return 0, 0
    key = condition.key(event) if condition.key is not None else None
    delay = _delay(condition.delay, event) or timedelta(0)
    written = rows.upsert(_row(declaration, event, key=key, due_at=event.created_at + delay))
    return int(written.id is not None), 0


def _after(declaration: Declaration, condition: After, event: ReactorEvent) -> tuple[int, int]:
    key = condition.key(event) if condition.key is not None else None
    if event.kind in condition.cancel_on and key is not None:
        return 0, rows.cancel_by_key(
            kind=declaration.kind, dedupe_key=f"{declaration.kind}:{key}", reason=f"cancelled by {event.kind}"
        )
    if not _matches(condition, event):
        return 0, 0
    delay = _delay(condition.delay, event)
    if delay is None:
        return 0, 0
    row = _row(declaration, event, key=key, due_at=event.created_at + delay)
    if condition.debounce:
        written = rows.upsert(row, on_conflict=rows.RESET, extra={"granularity": rows.debounce_granularity(delay)})
    else:
        written = rows.upsert(row)
    return int(written.id is not None), 0


def _when(declaration: Declaration, condition: When, event: ReactorEvent) -> tuple[int, int]:
    if not _matches(condition, event):
        return 0, 0
    key = (condition.key or everywhere)(event)
    due_at = event.created_at + (condition.debounce or timedelta(0))
    written = rows.upsert(_row(declaration, event, key=key, due_at=due_at), on_conflict=rows.ARM)
    return int(written.id is not None), 0


def _composite(declaration: Declaration, condition: Composite, event: ReactorEvent) -> tuple[int, int]:
    key = (condition.key or everywhere)(event)
    if key is None:
        return 0, 0
    dedupe_key = f"{declaration.kind}:{key}"
    timer = condition.timer
    if timer is not None and event.kind in timer.cancel_on:
        return 0, rows.cancel_by_key(kind=declaration.kind, dedupe_key=dedupe_key, reason=f"cancelled by {event.kind}")
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
        return 0, 0
    row = _row(declaration, event, key=key, due_at=_fresh_due(condition, bits, timer_at, event.created_at, touched))
    row.combine = condition.combine
    row.parts_all = condition.all_bits
    row.parts_met = bits
    row.timer_at = timer_at
    row.expires_at = event.created_at + condition.within if condition.within else None
    written = rows.upsert(
        row,
        on_conflict=_composite_update(condition, timer_matched=timer_at is not None),
        extra={"touched": touched},
    )
    return int(written.id is not None), 0


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
