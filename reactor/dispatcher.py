"""The dispatcher: hands due triggers to Celery, and takes back what a lost worker or broker dropped.

It sleeps until the earliest thing it must look at (a due time, a lease running out, an expiry) or until
a NOTIFY says a trigger was created or moved earlier, whichever comes first, and never longer than
`max_sleep`. A NOTIFY is a wake-up only; the rows are the record, so a lost notification costs at most
one `max_sleep` of lateness.

On each wake-up (and at start):
1. Expired leases go back to pending: an enqueued trigger whose message never reached a worker (Redis
   flushed or restarted) is sent again; a running trigger whose worker died is run again (or made dead
   when its attempts are used up). A running trigger whose worker is alive holds its row lock, which
   this step skips, so only dead workers' triggers are taken back.
2. Pending triggers past their expiry are cancelled.
3. Due triggers are claimed with SELECT ... FOR UPDATE SKIP LOCKED, leased, committed, then sent to
   Celery with the trigger id as task id. Two dispatchers never claim one row; a send that fails puts
   its rows back at once. Celery only ever receives work that is due now: no ETA, no countdown, so the
   broker's visibility timeout never redelivers a waiting task. The claim commits without waiting for
   its WAL flush: lost in a server crash, the rows are pending again and sent again, which the
   worker's claim absorbs.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from reactor.choices import TriggerStatus
from reactor.declare import Registry, registry
from reactor.rows import TABLE, WAKE_CHANNEL

logger = logging.getLogger(__name__)

Sender = Callable[[Sequence[uuid.UUID]], Sequence[uuid.UUID]]
"""Sends triggers to the executor; returns the ids it could not send."""

_RECOVER_SQL = f"""
WITH stale AS (
    SELECT id FROM {TABLE}
     WHERE status IN ('enqueued', 'running') AND lease_until < statement_timestamp()
     FOR UPDATE SKIP LOCKED
)
UPDATE {TABLE} AS t SET
    status = CASE WHEN t.status = 'running' AND t.attempts >= t.max_attempts THEN 'dead' ELSE 'pending' END,
    last_error = CASE WHEN t.status = 'running'
        THEN 'lease ran out while running (the worker was lost) on attempt ' || t.attempts
        ELSE 'lease ran out before a worker started it (the message was lost)' END,
    finished_at = CASE WHEN t.status = 'running' AND t.attempts >= t.max_attempts THEN statement_timestamp() END,
    lease_until = NULL,
    updated_at = statement_timestamp()
  FROM stale WHERE t.id = stale.id
RETURNING t.id, t.status
"""  # noqa: S608

_EXPIRE_SQL = f"""
WITH gone AS (
    SELECT id FROM {TABLE}
     WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at <= statement_timestamp()
     FOR UPDATE SKIP LOCKED
)
UPDATE {TABLE} AS t SET status = 'cancelled', last_error = 'expired before it was due',
    result = t.result || '{{"expired": true}}'::jsonb,
    finished_at = statement_timestamp(), updated_at = statement_timestamp()
  FROM gone WHERE t.id = gone.id
RETURNING t.id
"""  # noqa: S608

_CLAIM_SQL = f"""
WITH due AS (
    SELECT id FROM {TABLE}
     WHERE status = 'pending' AND due_at <= statement_timestamp()
       AND (expires_at IS NULL OR expires_at > statement_timestamp())
       AND set_config('synchronous_commit', 'off', true) IS NOT NULL
     ORDER BY due_at
     LIMIT %s
     FOR UPDATE SKIP LOCKED
)
UPDATE {TABLE} AS t SET status = 'enqueued', lease_until = statement_timestamp() + make_interval(secs => %s),
    enqueued_at = statement_timestamp(), sent_count = t.sent_count + 1, updated_at = statement_timestamp()
  FROM due WHERE t.id = due.id
RETURNING t.id
"""  # noqa: S608

_UNSEND_SQL = f"""
UPDATE {TABLE} SET status = 'pending', lease_until = NULL, sent_count = sent_count - 1,
    updated_at = statement_timestamp()
 WHERE id = ANY(%s) AND status = 'enqueued'
"""  # noqa: S608

_NEXT_SQL = f"""
SELECT LEAST(
    (SELECT min(due_at) FROM {TABLE} WHERE status = 'pending'),
    (SELECT min(lease_until) FROM {TABLE} WHERE status IN ('enqueued', 'running')),
    (SELECT min(expires_at) FROM {TABLE} WHERE status = 'pending' AND expires_at IS NOT NULL)
)
"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class DispatcherConfig:
    """The dispatcher's knobs (from settings: DIT_REACTOR_*)."""

    batch_size: int = 500
    enqueue_lease: timedelta = timedelta(minutes=5)
    max_sleep: float = 10.0
    listen: bool = True
    queue: str = "celery"

    @classmethod
    def from_settings(cls) -> DispatcherConfig:
        """Read the DIT_REACTOR_* settings."""
        return cls(
            batch_size=int(getattr(settings, "DIT_REACTOR_BATCH_SIZE", 500)),
            enqueue_lease=timedelta(seconds=float(getattr(settings, "DIT_REACTOR_ENQUEUE_LEASE_SECONDS", 300.0))),
            max_sleep=float(getattr(settings, "DIT_REACTOR_MAX_SLEEP_SECONDS", 10.0)),
            listen=bool(getattr(settings, "DIT_REACTOR_NOTIFY", True)),
            queue=str(getattr(settings, "DIT_REACTOR_QUEUE", "celery")),
        )


@dataclass(frozen=True, slots=True)
class Pass:
    """What one pass of the dispatcher did."""

    recovered: int
    dead: int
    expired: int
    sent: int
    unsent: int
    next_wake: datetime | None


def celery_sender(queue: str) -> Sender:
    """Send each trigger as the reactor's one task, with the trigger id as the task id.

    Published straight to the queue (the nameless exchange): a Redis flush also removes kombu's exchange
    bindings, and a routed publish would then fail until every process re-declared its queues.
    """

    def send(ids: Sequence[uuid.UUID]) -> Sequence[uuid.UUID]:
        from celery import current_app

        sent = 0
        try:
            # celery-types declares the pool's context manager without __enter__/__exit__.
            with current_app.producer_or_acquire() as producer:  # type: ignore[attr-defined]
                for trigger_id in ids:
                    current_app.send_task(
                        "reactor.run_trigger",
                        args=[str(trigger_id)],
                        task_id=str(trigger_id),
                        exchange="",
                        routing_key=queue,
                        producer=producer,
                        retry=False,
                    )
                    sent += 1
        except Exception:
            # Whatever the broker raised, the unsent rows go back to pending at once.
            logger.exception("reactor: sending to Celery failed; %s triggers put back", len(ids) - sent)
        return ids[sent:]

    return send


class Dispatcher:
    """One dispatcher process's loop; any number may run at once."""

    def __init__(
        self,
        *,
        sender: Sender,
        config: DispatcherConfig | None = None,
        declarations: Registry = registry,
    ) -> None:
        self.sender = sender
        self.config = config or DispatcherConfig.from_settings()
        self.declarations = declarations
        self.stop_requested = threading.Event()

    def arm(self) -> None:
        """Run the apps' arming functions once: the standing timers that current state implies."""
        for arm in self.declarations.arming:
            try:
                arm()
            except Exception:
                logger.exception("reactor: arming %s failed", getattr(arm, "__qualname__", arm))

    def recover(self) -> tuple[int, int]:
        """Return expired leases to pending (or dead); (recovered, made dead)."""
        with connection.cursor() as cursor:
            cursor.execute(_RECOVER_SQL)
            found = cursor.fetchall()
        dead = sum(1 for _, status in found if status == TriggerStatus.DEAD)
        if found:
            logger.warning(
                "reactor: %s leases ran out: %s back to pending, %s dead", len(found), len(found) - dead, dead
            )
        return len(found) - dead, dead

    def expire(self) -> int:
        """Cancel pending triggers past their expiry time."""
        with connection.cursor() as cursor:
            cursor.execute(_EXPIRE_SQL)
            return len(cursor.fetchall())

    def dispatch_due(self) -> tuple[int, int]:
        """Claim and send every due trigger, a batch at a time; (sent, put back)."""
        sent = unsent = 0
        while not self.stop_requested.is_set():
            with connection.cursor() as cursor:
                cursor.execute(_CLAIM_SQL, [self.config.batch_size, self.config.enqueue_lease.total_seconds()])
                ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            failed = list(self.sender(ids))
            if failed:
                with connection.cursor() as cursor:
                    cursor.execute(_UNSEND_SQL, [failed])
                unsent += len(failed)
                sent += len(ids) - len(failed)
                break
            sent += len(ids)
            if len(ids) < self.config.batch_size:
                break
        return sent, unsent

    def next_wake(self) -> datetime | None:
        """The earliest due time, lease end or expiry the dispatcher must look at."""
        with connection.cursor() as cursor:
            cursor.execute(_NEXT_SQL)
            row = cursor.fetchone()
        return row[0] if row else None

    def step(self) -> Pass:
        """One pass: dispatch what is due, recover leases, expire; returns when to look next."""
        # What woke the dispatcher is sent first; lease recovery and expiry follow on every pass.
        sent, unsent = self.dispatch_due()
        recovered, dead = self.recover()
        expired = self.expire()
        if recovered:
            again, put_back = self.dispatch_due()
            sent, unsent = sent + again, unsent + put_back
        upcoming = self.next_wake()
        if sent or unsent:
            logger.info("reactor: sent %s triggers to Celery (%s put back)", sent, unsent)
        return Pass(recovered, dead, expired, sent, unsent, upcoming)

    def sleep_for(self, done: Pass) -> float:
        """Seconds to sleep after a pass: until the next thing to look at, at most `max_sleep`."""
        if done.unsent:
            return min(1.0, self.config.max_sleep)
        if done.next_wake is None:
            return self.config.max_sleep
        wait = (done.next_wake - timezone.now()).total_seconds()
        return max(0.0, min(self.config.max_sleep, wait))

    def serve(self) -> None:
        """Run until `stop_requested` is set: arm, then pass and sleep, woken early by NOTIFY."""
        logger.info(
            "reactor: dispatcher started (batch %s, lease %ss, max sleep %ss, notify %s)",
            self.config.batch_size,
            self.config.enqueue_lease.total_seconds(),
            self.config.max_sleep,
            "on" if self.config.listen else "off",
        )
        listener = Listener() if self.config.listen else None
        self.arm()
        try:
            while not self.stop_requested.is_set():
                try:
                    done = self.step()
                    wait = self.sleep_for(done)
                except DatabaseError as exc:
                    logger.warning("reactor: database unavailable (%s); retrying in 1s", exc)
                    connection.close()
                    wait = 1.0
                if wait > 0:
                    self._sleep(wait, listener)
        finally:
            if listener is not None:
                listener.close()
            connection.close()
        logger.info("reactor: dispatcher stopped")

    def _sleep(self, seconds: float, listener: Listener | None) -> None:
        deadline = time.monotonic() + seconds
        # In short slices, so a stop request is seen within half a second.
        while not self.stop_requested.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if listener is None:
                self.stop_requested.wait(min(0.5, left))
            elif listener.wait(min(0.5, left)):
                return


class Listener:
    """LISTEN reactor_wake on a connection of its own; reconnects when the server goes away."""

    def __init__(self) -> None:
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            self._conn = psycopg.Connection.connect(**params, autocommit=True)
            self._conn.execute(f"LISTEN {WAKE_CHANNEL}")
        return self._conn

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for a wake-up; True when one came."""
        try:
            conn = self._connect()
            # One notification is enough to look; any more queued up wake the next wait at once, which
            # costs a cheap pass rather than a delay before this one.
            return any(True for _ in conn.notifies(timeout=timeout, stop_after=1))
        except psycopg.OperationalError as exc:
            logger.warning("reactor: LISTEN connection lost (%s); reconnecting", exc)
            self.close()
            time.sleep(min(timeout, 1.0))
            return False

    def close(self) -> None:
        """Close the LISTEN connection."""
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        self._conn = None
