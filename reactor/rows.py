"""Raw SQL for trigger rows: the one INSERT ... ON CONFLICT every way of making a trigger goes through.

Raw because the ORM has no upsert against a partial unique index (a dedupe key is unique only among
waiting rows) and no RETURNING of the row as it was before the update, which says whether the due time
moved earlier. A NOTIFY rides in the same statement when it did: Postgres delivers it on commit and
drops it on rollback, so the dispatcher never wakes for a trigger that does not exist.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from reactor.choices import WAITING_STATUSES, Combine, TriggerMode, TriggerStatus
from reactor.models import Trigger

WAKE_CHANNEL = "reactor_wake"

TABLE = Trigger._meta.db_table
_WAITING_SQL = ", ".join(f"'{status.value}'" for status in WAITING_STATUSES)
# Index inference for the partial unique index `reactor_trigger_one_waiting_per_key`.
CONFLICT_TARGET = f"(dedupe_key) WHERE status IN ({_WAITING_SQL}) AND dedupe_key IS NOT NULL"

_COLUMNS = (
    "id",
    "kind",
    "mode",
    "predicate",
    "payload",
    "guild_id",
    "channel_id",
    "status",
    "due_at",
    "expires_at",
    "attempts",
    "max_attempts",
    "sent_count",
    "last_error",
    "dedupe_key",
    "wake_keys",
    "combine",
    "parts_all",
    "parts_met",
    "timer_at",
    "result",
    "parent_event_id",
    "parent_trigger_id",
)
_CASTS = {"predicate": "::jsonb", "payload": "::jsonb", "result": "::jsonb", "wake_keys": "::varchar[]"}
_VALUES = ", ".join(f"%({name})s{_CASTS.get(name, '')}" for name in _COLUMNS)

# On conflict, what an update of a waiting row means; `t` is the row there, EXCLUDED the one offered.
KEEP = None
REPLACE = (
    "due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at, "
    "status = 'pending', lease_until = NULL, parent_event_id = COALESCE(EXCLUDED.parent_event_id, t.parent_event_id), "
    "updated_at = statement_timestamp()"
)
EARLIEST = (
    "due_at = CASE WHEN t.due_at IS NULL OR EXCLUDED.due_at < t.due_at THEN EXCLUDED.due_at ELSE t.due_at END, "
    "status = CASE WHEN t.due_at IS NULL OR EXCLUDED.due_at < t.due_at THEN 'pending' ELSE t.status END, "
    "updated_at = statement_timestamp()"
)
# A debounced timer: each event pushes the due time to its own silence window. A push smaller than the
# granularity (`debounce_granularity`: a hundredth of the window, at most a second) is skipped, so a
# busy channel does not rewrite its timer row, and every index on it, for each message; the timer then
# fires at most that much before the full silence after the last event.
RESET = (
    "due_at = EXCLUDED.due_at, status = 'pending', lease_until = NULL, "
    "parent_event_id = EXCLUDED.parent_event_id, updated_at = statement_timestamp() "
    "WHERE t.status <> 'pending' OR t.due_at IS NULL "
    "OR EXCLUDED.due_at - t.due_at >= make_interval(secs => %(granularity)s)"
)


def debounce_granularity(silence: timedelta) -> float:
    """Seconds by which a debounced timer's push may be skipped: 1% of its silence, at most one second."""
    return min(1.0, silence.total_seconds() / 100)


# A predicate trigger: the first event after a check arms it; later ones before it runs coalesce.
ARM = "due_at = COALESCE(t.due_at, EXCLUDED.due_at), updated_at = statement_timestamp()"


@dataclass
class TriggerRow:
    """The values of one trigger row to insert (or to merge into the waiting row with its dedupe key)."""

    kind: str
    due_at: datetime | None
    mode: TriggerMode = TriggerMode.TIMER
    predicate: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    guild_id: str = ""
    channel_id: str = ""
    expires_at: datetime | None = None
    max_attempts: int = 5
    dedupe_key: str | None = None
    wake_keys: list[str] = field(default_factory=list)
    combine: Combine = Combine.NONE
    parts_all: int = 0
    parts_met: int = 0
    timer_at: datetime | None = None
    parent_event_id: int | None = None
    parent_trigger_id: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def params(self) -> dict[str, Any]:
        """Parameters for the INSERT, JSON columns encoded."""
        return {
            "id": self.id,
            "kind": self.kind,
            "mode": str(self.mode),
            "predicate": json.dumps(self.predicate, cls=DjangoJSONEncoder),
            "payload": json.dumps(self.payload, cls=DjangoJSONEncoder),
            "guild_id": self.guild_id,
            "channel_id": self.channel_id,
            "status": TriggerStatus.PENDING.value,
            "due_at": self.due_at,
            "expires_at": self.expires_at,
            "attempts": 0,
            "max_attempts": self.max_attempts,
            "sent_count": 0,
            "last_error": "",
            "dedupe_key": self.dedupe_key,
            "wake_keys": list(self.wake_keys),
            "combine": str(self.combine),
            "parts_all": self.parts_all,
            "parts_met": self.parts_met,
            "timer_at": self.timer_at,
            "result": "{}",
            "parent_event_id": self.parent_event_id,
            "parent_trigger_id": self.parent_trigger_id,
        }


@dataclass(frozen=True, slots=True)
class Written:
    """What an upsert did: the row's id (None when a waiting row kept its place) and whether it got due sooner."""

    id: uuid.UUID | None
    inserted: bool
    sooner: bool


def notify_enabled() -> bool:
    """Whether writes send the dispatcher a NOTIFY (off only to show the dispatcher does not need it)."""
    return bool(getattr(settings, "DIT_REACTOR_NOTIFY", True))


# Where a write sits inside the statement of the event that causes it (`reactor.outbox.emit_statement`):
# the event row is the CTE named here, and a write with no event row (its idempotency key was used) does nothing.
EVENT = "e"
_PARAM = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True, slots=True)
class Write:
    """One trigger write as SQL with named parameters: run on its own, or as a CTE of an event's statement."""

    effect: str  # "written", "cancelled" or "woken": what each row it returns counts as
    sql: str
    params: dict[str, Any]

    def named(self, prefix: str) -> Write:
        """The same write with every parameter renamed `prefix` + name, to sit beside others in one statement."""
        sql = _PARAM.sub(lambda match: f"%({prefix}{match.group(1)})s", self.sql)
        return Write(self.effect, sql, {f"{prefix}{name}": value for name, value in self.params.items()})


def upsert_write(row: TriggerRow, *, on_conflict: str | None = KEEP, extra: dict[str, Any] | None = None) -> Write:
    """The INSERT ... ON CONFLICT of `row`, returning (id, inserted, sooner).

    `extra` holds parameters the `on_conflict` fragment refers to beyond the row's own columns.
    """
    if row.dedupe_key is None:
        conflict = ""
    elif on_conflict is None:
        conflict = f" ON CONFLICT {CONFLICT_TARGET} DO NOTHING"
    else:
        conflict = f" ON CONFLICT {CONFLICT_TARGET} DO UPDATE SET {on_conflict}"
    # old.* is NULL for a fresh insert (PostgreSQL 18 RETURNING OLD/NEW).
    sql = (
        f"INSERT INTO {TABLE} AS t ({', '.join(_COLUMNS)}) VALUES ({_VALUES}){conflict} "  # noqa: S608 - names and constants only
        "RETURNING new.id AS id, old.id IS NULL AS inserted, "
        "(new.due_at IS NOT NULL AND (old.due_at IS NULL OR new.due_at < old.due_at)) AS sooner"
    )
    return Write("written", sql, {**row.params(), **(extra or {})})


# The columns of a row offered inside an event's statement, as `jsonb_to_recordset` reads them: times as
# seconds after the event, everything the row does not take from the event or from a constant.
_OFFERED = (
    "id uuid, kind text, mode text, predicate jsonb, payload jsonb, guild_id text, channel_id text, "
    "due_in float8, expires_in float8, max_attempts int, dedupe_key text, wake_keys text[], combine text, "
    "parts_all int, parts_met int, timer_in float8, parent_trigger_id uuid"
)
_FROM_OFFERED = {
    "id": "r.id",
    "kind": "r.kind",
    "mode": "r.mode",
    "predicate": "r.predicate",
    # The event's id, known only once its row is stored, goes into the payload's `event` part.
    "payload": (
        f"CASE WHEN jsonb_typeof(r.payload->'event') = 'object' "
        f"THEN jsonb_set(r.payload, '{{event,id}}', to_jsonb({EVENT}.id)) ELSE r.payload END"
    ),
    "guild_id": "r.guild_id",
    "channel_id": "r.channel_id",
    "status": f"'{TriggerStatus.PENDING.value}'",
    "due_at": f"{EVENT}.created_at + make_interval(secs => r.due_in)",
    "expires_at": f"{EVENT}.created_at + make_interval(secs => r.expires_in)",
    "attempts": "0",
    "max_attempts": "r.max_attempts",
    "sent_count": "0",
    "last_error": "''",
    "dedupe_key": "r.dedupe_key",
    "wake_keys": "r.wake_keys",
    "combine": "r.combine",
    "parts_all": "r.parts_all",
    "parts_met": "r.parts_met",
    "timer_at": f"{EVENT}.created_at + make_interval(secs => r.timer_in)",
    "result": "'{}'::jsonb",
    "parent_event_id": f"{EVENT}.id",
    "parent_trigger_id": "r.parent_trigger_id",
}


def _seconds_after(moment: datetime | None, event_at: datetime) -> float | None:
    return None if moment is None else (moment - event_at).total_seconds()


def _offered(row: TriggerRow, event_at: datetime) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "kind": row.kind,
        "mode": str(row.mode),
        "predicate": row.predicate,
        "payload": row.payload,
        "guild_id": row.guild_id,
        "channel_id": row.channel_id,
        "due_in": _seconds_after(row.due_at, event_at),
        "expires_in": _seconds_after(row.expires_at, event_at),
        "max_attempts": row.max_attempts,
        "dedupe_key": row.dedupe_key,
        "wake_keys": list(row.wake_keys),
        "combine": str(row.combine),
        "parts_all": row.parts_all,
        "parts_met": row.parts_met,
        "timer_in": _seconds_after(row.timer_at, event_at),
        "parent_trigger_id": str(row.parent_trigger_id) if row.parent_trigger_id is not None else None,
    }


def upsert_rows_write(
    offered: list[TriggerRow],
    *,
    event_at: datetime,
    on_conflict: str | None = KEEP,
    extra: dict[str, Any] | None = None,
) -> Write:
    """The INSERT ... ON CONFLICT of several rows inside an event's statement, returning (id, inserted, sooner)
    for each row written.

    The rows travel as one JSON parameter, so an event that creates or moves many triggers sends a short
    statement with few parameters (which the driver converts once and caches) instead of one write of two
    dozen parameters per trigger. The rows share `on_conflict` and `extra`, and their dedupe keys differ
    (one statement may not touch a row twice). Times keep their distance from `event_at` (the event's time
    the declarations computed with) against the stored event's time; the parent is the stored event.
    """
    conflict = (
        f" ON CONFLICT {CONFLICT_TARGET} DO NOTHING"
        if on_conflict is None
        else f" ON CONFLICT {CONFLICT_TARGET} DO UPDATE SET {on_conflict}"
    )
    params = {"rows": json.dumps([_offered(row, event_at) for row in offered], cls=DjangoJSONEncoder), **(extra or {})}
    sql = (
        f"INSERT INTO {TABLE} AS t ({', '.join(_COLUMNS)}) "  # noqa: S608 - names and constants only
        f"SELECT {', '.join(_FROM_OFFERED[name] for name in _COLUMNS)} "
        f"FROM {EVENT}, jsonb_to_recordset(%(rows)s::jsonb) AS r({_OFFERED}){conflict} "
        "RETURNING new.id AS id, old.id IS NULL AS inserted, "
        "(new.due_at IS NOT NULL AND (old.due_at IS NULL OR new.due_at < old.due_at)) AS sooner"
    )
    return Write("written", sql, params)


def upsert(row: TriggerRow, *, on_conflict: str | None = KEEP, extra: dict[str, Any] | None = None) -> Written:
    """Insert a trigger, or merge it into the waiting row with its dedupe key as `on_conflict` says."""
    write = upsert_write(row, on_conflict=on_conflict, extra=extra)
    statement = write.sql
    if notify_enabled():
        statement = (
            f"WITH up AS ({statement}) SELECT id, inserted, sooner, "  # noqa: S608
            f"CASE WHEN sooner THEN pg_notify('{WAKE_CHANNEL}', '')::text END FROM up"
        )
    with connection.cursor() as cursor:
        cursor.execute(statement, write.params)
        found = cursor.fetchone()
    if found is None:
        return Written(id=None, inserted=False, sooner=False)
    return Written(id=found[0], inserted=bool(found[1]), sooner=bool(found[2]))


def _after_event(event: bool) -> str:
    return f" AND EXISTS (SELECT 1 FROM {EVENT})" if event else ""  # noqa: S608 - a constant name


def wake_write(keys: list[str], *, after_event: bool = False) -> Write:
    """Make waiting triggers that list any of `keys` due now, returning their ids."""
    sql = (
        f"UPDATE {TABLE} SET due_at = statement_timestamp(), status = 'pending', updated_at = statement_timestamp() "  # noqa: S608
        # wake_keys <> '{}' lets the planner use the partial GIN index (rows with wake keys only).
        "WHERE wake_keys && %(keys)s::varchar[] AND wake_keys <> '{}' AND status = 'pending' "
        f"AND (due_at IS NULL OR due_at > statement_timestamp()){_after_event(after_event)} "
        "RETURNING id"
    )
    return Write("woken", sql, {"keys": keys})


def wake_by_keys(keys: list[str]) -> int:
    """Make waiting triggers that list any of `keys` due now; returns how many moved."""
    write = wake_write(keys)
    statement = write.sql
    if notify_enabled():
        statement = (
            f"WITH up AS ({statement}) SELECT count(*), pg_notify('{WAKE_CHANNEL}', '')::text "  # noqa: S608
            "FROM up HAVING count(*) > 0"
        )
    with connection.cursor() as cursor:
        cursor.execute(statement, write.params)
        rows = cursor.fetchall()
    if notify_enabled():
        return int(rows[0][0]) if rows else 0
    return len(rows)


def cancel_write(*, kind: str, dedupe_key: str, reason: str, after_event: bool = False) -> Write:
    """Cancel the waiting trigger of `kind` with `dedupe_key`, returning its id."""
    sql = (
        f"UPDATE {TABLE} SET status = 'cancelled', last_error = %(reason)s, finished_at = statement_timestamp(), "  # noqa: S608
        "lease_until = NULL, updated_at = statement_timestamp() "
        f"WHERE kind = %(kind)s AND dedupe_key = %(dedupe_key)s AND status IN ({_WAITING_SQL})"
        f"{_after_event(after_event)} RETURNING id"
    )
    return Write("cancelled", sql, {"reason": reason, "kind": kind, "dedupe_key": dedupe_key})


def cancel_by_key(*, kind: str, dedupe_key: str, reason: str) -> int:
    """Cancel the waiting trigger of `kind` with `dedupe_key`; returns how many were cancelled (0 or 1)."""
    write = cancel_write(kind=kind, dedupe_key=dedupe_key, reason=reason)
    with connection.cursor() as cursor:
        cursor.execute(write.sql, write.params)
        return int(cursor.rowcount)


def notify_now() -> None:
    """Wake the dispatcher on commit (a requeue, a due time moved by hand)."""
    if notify_enabled():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [WAKE_CHANNEL])
