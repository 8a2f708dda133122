"""Probe triggers for the reactor's tests: effects that record each run and each applied effect.

Imported by the test process (to schedule them) and by the Celery worker the integration tests start
(`celery worker -I reactor.tests.probe`), so both know the same kinds.

Two tables, made by `ensure_tables`:
- reactor_probe_run: one row per execution that reached the effect, written on a connection of its own
  in autocommit, so it survives the effect's rollback (a killed worker, a failure).
- reactor_probe_effect: the effect itself, written in the trigger's transaction: it commits only with
  `done`, so its row count per trigger is the number of times the effect really happened.

The payload steers a run: {"sleep": seconds before the effect, "linger": seconds after writing it (before
the commit), "transient_failures": n (attempts up to n raise a transient error), "fail": true (a
permanent error), "again": true (schedule a child an hour later)}.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import timedelta

import psycopg
import redis
from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from reactor.choices import EventKind
from reactor.declare import Next, Outcome, TriggerRun, after, all_of, any_of, on, per_channel, trigger, wakes, when
from reactor.errors import TransientEffectError
from reactor.models import ReactorEvent

_local = threading.local()

DDL = """
CREATE TABLE IF NOT EXISTS reactor_probe_run (
    id bigserial PRIMARY KEY, trigger_id uuid NOT NULL, attempt int NOT NULL, pid int NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS reactor_probe_effect (
    id bigserial PRIMARY KEY, trigger_id uuid NOT NULL, kind text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS reactor_probe_flag (name text PRIMARY KEY, value boolean NOT NULL);
"""


def ensure_tables() -> None:
    """Create the probe tables (idempotent)."""
    with connection.cursor() as cursor:
        cursor.execute(DDL)


def clear_tables() -> None:
    """Empty the probe tables (the runs table on the side connection, which commits at once)."""
    _side_connection().execute("TRUNCATE reactor_probe_run")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE reactor_probe_effect, reactor_probe_flag")


def _side_connection() -> psycopg.Connection[tuple[object, ...]]:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        conn = psycopg.Connection.connect(**params, autocommit=True)
        _local.conn = conn
    return conn


def close_side_connection() -> None:
    """Close this thread's autocommit connection (tests close it before the database is dropped)."""
    conn = getattr(_local, "conn", None)
    if conn is not None and not conn.closed:
        conn.close()
    _local.conn = None


def runs(trigger_id: object = None) -> list[tuple[object, int, int]]:
    """Recorded runs (trigger id, attempt, pid), oldest first; of one trigger when given."""
    sql = "SELECT trigger_id, attempt, pid FROM reactor_probe_run"
    with _side_connection().cursor() as cursor:
        if trigger_id is None:
            cursor.execute(sql + " ORDER BY id")
        else:
            cursor.execute(sql + " WHERE trigger_id = %s ORDER BY id", [str(trigger_id)])
        return [(row[0], int(row[1]), int(row[2])) for row in cursor.fetchall()]  # type: ignore[call-overload]


def effects(trigger_id: object = None) -> list[object]:
    """Trigger ids of the effects applied, oldest first; of one trigger when given."""
    with connection.cursor() as cursor:
        if trigger_id is None:
            cursor.execute("SELECT trigger_id FROM reactor_probe_effect ORDER BY id")
        else:
            cursor.execute(
                "SELECT trigger_id FROM reactor_probe_effect WHERE trigger_id = %s ORDER BY id", [str(trigger_id)]
            )
        return [row[0] for row in cursor.fetchall()]


def set_flag(name: str, value: bool) -> None:
    """Turn a probe flag on or off (in the caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO reactor_probe_flag (name, value) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET value = %s",
            [name, value, value],
        )


def _record_run(run: TriggerRun) -> None:
    _side_connection().execute(
        "INSERT INTO reactor_probe_run (trigger_id, attempt, pid) VALUES (%s, %s, %s)",
        [run.id, run.attempt, os.getpid()],
    )


def _apply(run: TriggerRun) -> Outcome:
    _record_run(run)
    payload = run.payload
    if payload.get("sleep"):
        time.sleep(float(payload["sleep"]))
    if run.attempt <= int(payload.get("transient_failures", 0)):
        raise TransientEffectError(f"probe: transient failure on attempt {run.attempt}")
    if payload.get("fail"):
        raise ValueError("probe: a permanent failure")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO reactor_probe_effect (trigger_id, kind) VALUES (%s, %s)", [run.id, run.kind])
    if payload.get("linger"):
        # The effect is written but not committed: a worker killed now must leave nothing behind.
        time.sleep(float(payload["linger"]))
    then = Next(due_at=timezone.now() + timedelta(hours=1), payload={}) if payload.get("again") else None
    return Outcome(result={"probe": "applied", "attempt": run.attempt}, then=then)


def probing(event: ReactorEvent) -> bool:
    """Only events marked as the probe's: production events never start a probe trigger."""
    return bool(event.payload.get("probe"))


def flag_is_set(run: TriggerRun) -> bool:
    """A state predicate: the probe flag named in the payload (or 'open') is on."""
    name = str(run.payload.get("flag", "open"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM reactor_probe_flag WHERE name = %s", [name])
        row = cursor.fetchone()
    return bool(row and row[0])


@trigger("probe.timer", max_attempts=3, lease=timedelta(seconds=4), backoff_seconds=0.2)
def probe_timer(run: TriggerRun) -> Outcome:
    """A scheduled probe: records its run and its effect."""
    return _apply(run)


@trigger("probe.quiet", after(silence=timedelta(seconds=2), on=EventKind.BOT_SPOKE, match=probing, key=per_channel))
def probe_quiet(run: TriggerRun) -> Outcome:
    """A debounced probe: due two seconds after the last bot.spoke event in a channel."""
    return _apply(run)


@trigger(
    "probe.quiet_or_stop",
    after(
        silence=timedelta(seconds=2),
        on=EventKind.TURN_FINISHED,
        match=probing,
        key=per_channel,
        cancel_on=[EventKind.MUTE_EXPIRED],
    ),
)
def probe_quiet_or_stop(run: TriggerRun) -> Outcome:
    """A debounced probe that a mute.expired event in the channel cancels."""
    return _apply(run)


@trigger(
    "probe.on_reaction",
    on(EventKind.REACTION_ADDED, match=lambda event: probing(event) and event.payload.get("emoji") == "🔥"),
)
def probe_on_reaction(run: TriggerRun) -> Outcome:
    """Due at once for each fire reaction."""
    return _apply(run)


@trigger(
    "probe.both",
    all_of(
        on(EventKind.REACTION_ADDED, match=probing),
        on(EventKind.BOT_SPOKE, match=probing),
        when(flag_is_set),
        key=per_channel,
    ),
)
def probe_both(run: TriggerRun) -> Outcome:
    """A composite: a reaction and a bot message in one channel, and the probe flag on."""
    return _apply(run)


@trigger(
    "probe.either",
    any_of(on(EventKind.REACTION_ADDED, match=probing), on(EventKind.TURN_FINISHED, match=probing), key=per_channel),
)
def probe_either(run: TriggerRun) -> Outcome:
    """A composite: a reaction or a finished turn in one channel."""
    return _apply(run)


@trigger("probe.flag", when(flag_is_set, on=EventKind.BUDGET_PERIOD_OPENED, match=probing, key=per_channel), rearm=True)
def probe_flag(run: TriggerRun) -> Outcome:
    """A state predicate: when the flag is on, checked as budget.period_opened events arrive."""
    return _apply(run)


# A message.edited event of the probe's naming its `target` wakes probe triggers waiting on that target.
wakes(
    EventKind.MESSAGE_EDITED,
    keys=lambda event: [f"probe-wake:{event.payload['target']}"]
    if probing(event) and "target" in event.payload
    else [],
)


# For bench/reactor.py: a handler that does nothing but note when it started, beside a bare Celery task
# that does the same, so the two paths are timed alike (wall clock of one machine, one Redis list each).


def _note_start(key: str, ident: str) -> None:
    client = getattr(_local, "redis", None)
    if client is None:
        client = _local.redis = redis.Redis.from_url(settings.REDIS_URL)
    client.rpush(key, json.dumps([ident, time.time()]))


@trigger("probe.bench", on(EventKind.TURN_FINISHED, match=lambda event: bool(event.payload.get("bench"))))
def probe_bench(run: TriggerRun) -> Outcome:
    """Note when the handler started, under the bench's key (the event's, or the timer's payload)."""
    event = run.payload.get("event", {})
    key = str(event.get("bench") or run.payload["bench"])
    _note_start(key, str(run.id))
    return Outcome()


@trigger("probe.bench_timer")
def probe_bench_timer(run: TriggerRun) -> Outcome:
    """A scheduled bench handler: notes its start beside its due time."""
    _note_start(str(run.payload["bench"]), str(run.id))
    return Outcome()


@shared_task(name="probe.bare", ignore_result=True)
def bare(key: str, ident: str) -> None:
    """A bare Celery task doing nothing but note when it started."""
    _note_start(key, ident)
