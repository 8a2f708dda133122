"""Running one trigger in a Celery worker: claim, re-check, apply the effect, mark done (or retry, or dead).

1. Claim: a conditional UPDATE from enqueued to running. Zero rows means another delivery of the same
   task (a broker redelivery, a second dispatcher's send after a lease ran out) got here first, or the
   row was cancelled or moved: exit without doing anything.
2. In one transaction holding the row lock: re-check that the claim is still ours (the attempt number
   is the fencing token), check the declaration's predicates against current state, apply the effect,
   mark the row done and create what it schedules next. The effect's database writes commit together
   with `done`, so a worker killed mid-effect leaves nothing behind and the rerun does it once.
   While the lock is held the dispatcher's lease recovery skips the row, so only a dead worker's
   trigger is ever taken back.
3. A failure rolls back the effect. Transient failures (database or network hiccups) return the row to
   pending with an exponential backoff until its attempts are used up; anything else, and the last
   transient one, make it `dead` with the error kept for the admin's requeue.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from dit_project import logcontext
from reactor.choices import WAITING_STATUSES, Combine, TriggerStatus
from reactor.declare import Check, Declaration, Outcome, Registry, TriggerRun, When, registry
from reactor.models import Trigger

logger = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=5)

# One statement: the claim and the lease of the trigger's kind (a CASE over the declared kinds' leases).
# It commits without waiting for its WAL flush (synchronous_commit off for this statement's transaction
# only): a claim lost in a server crash leaves the row enqueued and its lease brings it back, while the
# effect's own commit, which is synchronous, flushes the claim before it anyway.
_CLAIM_SQL = (
    f"UPDATE {Trigger._meta.db_table} SET status = 'running', attempts = attempts + 1, "  # noqa: S608
    "started_at = statement_timestamp(), lease_until = statement_timestamp() + make_interval(secs => {lease}), "
    "updated_at = statement_timestamp() "
    "WHERE id = %s AND status = 'enqueued' AND set_config('synchronous_commit', 'off', true) IS NOT NULL "
    "RETURNING attempts, kind"
)


def _claim_statement(declarations: Registry) -> tuple[str, list[Any]]:
    kinds = [(kind, declarations.get(kind)) for kind in declarations.kinds]
    leases = [(kind, d.lease.total_seconds()) for kind, d in kinds if d is not None and d.lease != DEFAULT_LEASE]
    if not leases:
        return _CLAIM_SQL.format(lease="%s"), [DEFAULT_LEASE.total_seconds()]
    cases = " ".join("WHEN %s THEN %s" for _ in leases)
    params: list[Any] = [value for pair in leases for value in pair]
    return _CLAIM_SQL.format(lease=f"CASE kind {cases} ELSE %s END"), [*params, DEFAULT_LEASE.total_seconds()]


class RunEnd(StrEnum):
    """How one execution of a trigger ended."""

    NOT_CLAIMED = "not_claimed"
    LOST = "lost"
    DONE = "done"
    HELD = "held"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one execution did."""

    end: RunEnd
    attempt: int = 0
    error: str = ""


def run_trigger(trigger_id: uuid.UUID | str) -> RunReport:
    """Execute a trigger sent by the dispatcher; safe to call any number of times for one id."""
    pk = uuid.UUID(str(trigger_id))
    # Every line logged during the run (and an error it captures) names the trigger.
    with logcontext.bind(trigger_id=pk):
        return _run(pk)


def _run(pk: uuid.UUID) -> RunReport:
    statement, lease_params = _claim_statement(registry)
    with connection.cursor() as cursor:
        cursor.execute(statement, [*lease_params, pk])
        claimed = cursor.fetchone()
    if claimed is None:
        logger.info("reactor trigger %s was not enqueued (any more); another run has it, or it is gone", pk)
        return RunReport(RunEnd.NOT_CLAIMED)
    attempt, kind = int(claimed[0]), str(claimed[1])
    logcontext.annotate(task=f"reactor:{kind}")
    declaration = registry.get(kind)
    if declaration is None:
        _finish_dead(pk, attempt, f"no app declares trigger kind {kind!r}")
        return RunReport(RunEnd.DEAD, attempt, "undeclared kind")
    try:
        return _apply(pk, attempt, declaration)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row and logged; none is lost
        return _failed(pk, attempt, declaration, exc)


def _apply(pk: uuid.UUID, attempt: int, declaration: Declaration) -> RunReport:
    with transaction.atomic():
        row = Trigger.objects.select_for_update().filter(pk=pk).first()
        if row is None or row.status != TriggerStatus.RUNNING or row.attempts != attempt:
            # The lease ran out and the row was taken back; whoever holds it now runs it.
            logger.warning("reactor trigger %s attempt %s lost its claim; not applying its effect", pk, attempt)
            return RunReport(RunEnd.LOST, attempt)
        logcontext.annotate(guild_id=row.guild_id, channel_id=row.channel_id)
        run = _run_of(row, attempt)
        held, checks = _check(declaration, row, run)
        now = timezone.now()
        if not held:
            return _not_held(row, declaration, checks, attempt)
        outcome = declaration.effect(run) or Outcome()
        row.status = TriggerStatus.DONE
        row.result = {**({"checks": checks} if checks else {}), **dict(outcome.result)}
        row.finished_at = now
        row.lease_until = None
        row.last_error = ""
        row.updated_at = now
        row.save(update_fields=["status", "result", "finished_at", "lease_until", "last_error", "updated_at"])
        if outcome.then is not None:
            _schedule_next(row, outcome)
    logger.info("reactor trigger %s (%s) done on attempt %s", pk, row.kind, attempt)
    return RunReport(RunEnd.DONE, attempt)


def _run_of(row: Trigger, attempt: int) -> TriggerRun:
    return TriggerRun(
        id=row.pk,
        kind=row.kind,
        payload=row.payload,
        predicate=row.predicate,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        attempt=attempt,
        due_at=row.due_at,
        created_at=row.created_at,
        parent_event_id=row.parent_event_id,
        parent_trigger_id=row.parent_trigger_id,
        dedupe_key=row.dedupe_key,
    )


def _check(declaration: Declaration, row: Trigger, run: TriggerRun) -> tuple[bool, list[dict[str, Any]]]:
    """Evaluate the declaration's predicates against current state; every answer is logged on the row."""
    checks = declaration.checks
    if not checks:
        return True, []
    answers = [(check, _answer(check, run)) for check in checks]
    logged = [{"part": check.name, "holds": answer.holds, **dict(answer.detail)} for check, answer in answers]
    holds = [answer.holds for _, answer in answers]
    if row.combine == Combine.ANY:
        # Any of: a seen event part or an elapsed timer already holds; otherwise one predicate must.
        seen = bool(row.parts_met & row.parts_all) or (row.timer_at is not None and row.timer_at <= timezone.now())
        return seen or any(holds), logged
    return all(holds), logged


def _answer(check: When, run: TriggerRun) -> Check:
    answer = check.predicate(run)
    return answer if isinstance(answer, Check) else Check(bool(answer))


def _not_held(row: Trigger, declaration: Declaration, checks: list[dict[str, Any]], attempt: int) -> RunReport:
    now = timezone.now()
    superseded = (
        row.dedupe_key is not None
        and Trigger.objects.filter(dedupe_key=row.dedupe_key, status__in=WAITING_STATUSES).exclude(pk=row.pk).exists()
    )
    if declaration.rearm and not superseded:
        # Back to waiting for the events it depends on; the attempts were not failures.
        row.status = TriggerStatus.PENDING
        row.due_at = None
        row.attempts = 0
        row.lease_until = None
        row.result = {"checks": checks, "held": False, "checked_at": now.isoformat()}
        row.updated_at = now
        row.save(update_fields=["status", "due_at", "attempts", "lease_until", "result", "updated_at"])
        logger.info("reactor trigger %s (%s): predicate does not hold; waiting for its events", row.pk, row.kind)
        return RunReport(RunEnd.HELD, attempt)
    row.status = TriggerStatus.DONE
    row.result = {"checks": checks, "held": False}
    row.finished_at = now
    row.lease_until = None
    row.updated_at = now
    row.save(update_fields=["status", "result", "finished_at", "lease_until", "updated_at"])
    logger.info("reactor trigger %s (%s): predicate does not hold; finished without its effect", row.pk, row.kind)
    return RunReport(RunEnd.HELD, attempt)


def _schedule_next(row: Trigger, outcome: Outcome) -> None:
    # Imported here: services imports this module's neighbours, and the next run is rare.
    from reactor.services import EARLIEST, schedule

    then = outcome.then
    assert then is not None  # noqa: S101 - checked by the caller
    schedule(
        row.kind,
        due_at=then.due_at,
        payload=dict(then.payload) if then.payload is not None else row.payload,
        dedupe_key=row.dedupe_key,
        on_conflict=EARLIEST,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        wake_keys=list(then.wake_keys) if then.wake_keys is not None else row.wake_keys,
        parent_event_id=row.parent_event_id,
        parent_trigger_id=row.pk,
    )


def _failed(pk: uuid.UUID, attempt: int, declaration: Declaration, error: Exception) -> RunReport:
    text = "".join(traceback.format_exception(error))[-4000:]
    summary = f"{type(error).__name__}: {error}"[:500]
    if declaration.is_transient(error) and attempt < declaration.max_attempts:
        wait = declaration.backoff(attempt)
        changed = Trigger.objects.filter(pk=pk, status=TriggerStatus.RUNNING, attempts=attempt).update(
            status=TriggerStatus.PENDING,
            due_at=timezone.now() + wait,
            lease_until=None,
            last_error=text,
            updated_at=timezone.now(),
        )
        if changed:
            logger.warning(
                "reactor trigger %s attempt %s failed (%s); retrying in %.1fs",
                pk,
                attempt,
                summary,
                wait.total_seconds(),
            )
        return RunReport(RunEnd.RETRY, attempt, summary)
    logger.error("reactor trigger %s attempt %s failed for good: %s", pk, attempt, summary, exc_info=error)
    _finish_dead(pk, attempt, text)
    return RunReport(RunEnd.DEAD, attempt, summary)


def _finish_dead(pk: uuid.UUID, attempt: int, error: str) -> None:
    now = timezone.now()
    Trigger.objects.filter(pk=pk, status=TriggerStatus.RUNNING, attempts=attempt).update(
        status=TriggerStatus.DEAD, last_error=error, lease_until=None, finished_at=now, updated_at=now
    )
