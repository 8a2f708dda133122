"""Running a trigger: claimed once, predicates re-checked, effect and `done` together, retries, dead letters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from reactor.choices import EventKind, TriggerStatus
from reactor.declare import registry
from reactor.execution import RunEnd, _apply, run_trigger
from reactor.models import Trigger
from reactor.services import emit_event, schedule
from reactor.tests import probe

pytestmark = pytest.mark.usefixtures("probes")


def _enqueued(kind="probe.timer", **payload):
    trigger_id = schedule(kind, due_at=timezone.now(), payload=payload)
    Trigger.objects.filter(pk=trigger_id).update(status=TriggerStatus.ENQUEUED)
    return trigger_id


def _enqueue(trigger_id):
    Trigger.objects.filter(pk=trigger_id).update(status=TriggerStatus.ENQUEUED)


def test_a_trigger_runs_its_effect_and_is_done():
    trigger_id = _enqueued()

    report = run_trigger(trigger_id)

    trigger = Trigger.objects.get(pk=trigger_id)
    assert report.end == RunEnd.DONE
    assert (trigger.status, trigger.attempts) == (TriggerStatus.DONE, 1)
    assert trigger.result == {"probe": "applied", "attempt": 1}
    assert trigger.finished_at is not None
    assert probe.effects(trigger_id) == [trigger_id]


def test_a_second_delivery_of_the_same_task_finds_it_claimed_and_does_nothing():
    trigger_id = _enqueued()
    run_trigger(trigger_id)

    again = run_trigger(trigger_id)

    assert again.end == RunEnd.NOT_CLAIMED
    assert probe.effects(trigger_id) == [trigger_id]
    assert Trigger.objects.get(pk=trigger_id).attempts == 1


def test_a_pending_or_cancelled_trigger_is_never_run_by_a_stray_message():
    pending = schedule("probe.timer", due_at=timezone.now())
    cancelled = _enqueued()
    Trigger.objects.filter(pk=cancelled).update(status=TriggerStatus.CANCELLED)

    assert run_trigger(pending).end == RunEnd.NOT_CLAIMED
    assert run_trigger(cancelled).end == RunEnd.NOT_CLAIMED
    assert probe.effects() == []


def test_a_transient_failure_goes_back_to_pending_with_backoff_and_the_error_kept():
    trigger_id = _enqueued(transient_failures=1)

    report = run_trigger(trigger_id)

    trigger = Trigger.objects.get(pk=trigger_id)
    assert report.end == RunEnd.RETRY
    assert trigger.status == TriggerStatus.PENDING
    assert trigger.due_at is not None
    assert trigger.due_at > timezone.now()
    assert "transient failure on attempt 1" in trigger.last_error
    assert probe.effects(trigger_id) == []
    _enqueue(trigger_id)
    assert run_trigger(trigger_id).end == RunEnd.DONE
    assert probe.effects(trigger_id) == [trigger_id]


def test_a_trigger_is_dead_once_its_attempts_are_used_up():
    trigger_id = _enqueued(transient_failures=99)

    ends = []
    for _ in range(3):
        _enqueue(trigger_id)
        ends.append(run_trigger(trigger_id).end)

    trigger = Trigger.objects.get(pk=trigger_id)
    assert ends == [RunEnd.RETRY, RunEnd.RETRY, RunEnd.DEAD]
    assert (trigger.status, trigger.attempts) == (TriggerStatus.DEAD, 3)
    assert "TransientEffectError" in trigger.last_error


def test_a_permanent_failure_is_dead_at_once_with_its_traceback_and_no_effect():
    trigger_id = _enqueued(fail=True)

    report = run_trigger(trigger_id)

    trigger = Trigger.objects.get(pk=trigger_id)
    assert report.end == RunEnd.DEAD
    assert trigger.status == TriggerStatus.DEAD
    assert "ValueError: probe: a permanent failure" in trigger.last_error
    assert "Traceback" in trigger.last_error
    assert probe.effects(trigger_id) == []


def test_a_run_whose_claim_was_taken_back_applies_nothing():
    trigger_id = _enqueued()
    Trigger.objects.filter(pk=trigger_id).update(status=TriggerStatus.RUNNING, attempts=4)

    declaration = registry.get("probe.timer")
    assert declaration is not None
    report = _apply(trigger_id, 3, declaration)

    assert report.end == RunEnd.LOST
    assert probe.effects(trigger_id) == []


def test_a_composite_whose_predicate_fails_at_run_time_finishes_without_its_effect():
    emit_event(EventKind.REACTION_ADDED, {"probe": True}, guild_id="g", channel_id="c")
    emit_event(EventKind.BOT_SPOKE, {"probe": True}, guild_id="g", channel_id="c")
    trigger = Trigger.objects.get(kind="probe.both")
    _enqueue(trigger.pk)

    report = run_trigger(trigger.pk)

    trigger.refresh_from_db()
    assert report.end == RunEnd.HELD
    assert trigger.status == TriggerStatus.DONE
    assert trigger.result == {"checks": [{"part": "flag_is_set", "holds": False}], "held": False}
    assert probe.effects() == []


def test_a_composite_whose_predicate_holds_runs_with_the_check_logged():
    probe.set_flag("open", True)
    emit_event(EventKind.REACTION_ADDED, {"probe": True}, guild_id="g", channel_id="c")
    emit_event(EventKind.BOT_SPOKE, {"probe": True}, guild_id="g", channel_id="c")
    trigger = Trigger.objects.get(kind="probe.both")
    _enqueue(trigger.pk)

    run_trigger(trigger.pk)

    trigger.refresh_from_db()
    assert trigger.status == TriggerStatus.DONE
    assert trigger.result["checks"] == [{"part": "flag_is_set", "holds": True}]
    assert probe.effects() == [trigger.pk]


def test_a_standing_predicate_that_does_not_hold_waits_for_its_next_event():
    emit_event(EventKind.BUDGET_PERIOD_OPENED, {"probe": True}, guild_id="g", channel_id="c")
    trigger = Trigger.objects.get(kind="probe.flag")
    _enqueue(trigger.pk)

    assert run_trigger(trigger.pk).end == RunEnd.HELD
    trigger.refresh_from_db()
    assert (trigger.status, trigger.due_at, trigger.attempts) == (TriggerStatus.PENDING, None, 0)

    probe.set_flag("open", True)
    emit_event(EventKind.BUDGET_PERIOD_OPENED, {"probe": True}, guild_id="g", channel_id="c")
    trigger.refresh_from_db()
    assert trigger.due_at is not None
    _enqueue(trigger.pk)
    assert run_trigger(trigger.pk).end == RunEnd.DONE
    assert probe.effects() == [trigger.pk]


def test_an_undeclared_kind_is_dead_naming_the_kind():
    trigger = Trigger.objects.create(kind="nobody.declares", due_at=timezone.now(), status=TriggerStatus.ENQUEUED)

    assert run_trigger(trigger.pk).end == RunEnd.DEAD
    trigger.refresh_from_db()
    assert trigger.last_error == "no app declares trigger kind 'nobody.declares'"


def test_an_effect_that_asks_to_run_again_leaves_a_child_under_the_same_key():
    trigger_id = schedule("probe.timer", due_at=timezone.now(), payload={"again": True}, dedupe_key="probe:chain")
    _enqueue(trigger_id)

    run_trigger(trigger_id)

    child = Trigger.objects.get(parent_trigger_id=trigger_id)
    assert (child.status, child.dedupe_key, child.kind) == (TriggerStatus.PENDING, "probe:chain", "probe.timer")
    assert child.due_at is not None
    assert child.due_at > timezone.now() + timedelta(minutes=59)
    assert child.payload == {}
