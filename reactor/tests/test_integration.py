"""The reactor for real: a Celery worker process and a dispatcher process on a Redis of their own.

Every test commits its rows (the worker and dispatcher are other processes) and waits on the database.
No test asserts how long anything took: timer lateness is measured by bench/reactor.py.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from reactor.choices import EventKind, TriggerStatus
from reactor.models import Trigger
from reactor.services import cancel, emit_event, schedule
from reactor.tests import probe
from reactor.tests.stack import VISIBILITY_TIMEOUT_SECONDS

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("committed_probes")]


def _status(trigger_id) -> str:
    return Trigger.objects.filter(pk=trigger_id).values_list("status", flat=True).get()


def _finished(*trigger_ids) -> bool:
    return Trigger.objects.filter(
        pk__in=trigger_ids, status__in=(TriggerStatus.DONE, TriggerStatus.DEAD)
    ).count() == len(trigger_ids)


def test_a_timer_fires_once_at_its_time(reactor_stack):
    due_at = timezone.now() + timedelta(seconds=2)
    trigger_id = schedule("probe.timer", due_at=due_at)

    reactor_stack.wait_for(lambda: _finished(trigger_id), what="the timer")
    time.sleep(1.5)

    trigger = Trigger.objects.get(pk=trigger_id)
    assert trigger.status == TriggerStatus.DONE
    assert trigger.started_at is not None
    assert trigger.started_at >= due_at
    assert [run[1] for run in probe.runs(trigger_id)] == [1]
    assert probe.effects(trigger_id) == [trigger_id]
    assert trigger.sent_count == 1


def test_a_trigger_due_after_the_visibility_timeout_fires_exactly_once(reactor_stack):
    # A Celery ETA this far out would be redelivered every 5 s; the reactor hands Celery only what is due.
    trigger_id = schedule("probe.timer", due_at=timezone.now() + timedelta(seconds=4 * VISIBILITY_TIMEOUT_SECONDS))

    reactor_stack.wait_for(lambda: _finished(trigger_id), timeout=90, what="the 20 s timer")
    time.sleep(VISIBILITY_TIMEOUT_SECONDS + 1)

    assert [run[1] for run in probe.runs(trigger_id)] == [1]
    assert probe.effects(trigger_id) == [trigger_id]
    assert Trigger.objects.get(pk=trigger_id).sent_count == 1


def test_a_debounced_timer_fires_once_after_the_last_event(reactor_stack):
    events = []
    for _ in range(3):
        event = emit_event(EventKind.BOT_SPOKE, {"probe": True}, guild_id="g", channel_id="c-debounce")
        assert event is not None
        events.append(event)
        time.sleep(0.6)

    trigger = reactor_stack.wait_for(
        lambda: Trigger.objects.filter(kind="probe.quiet", status=TriggerStatus.DONE).first(), what="the quiet timer"
    )
    time.sleep(1.0)

    assert Trigger.objects.filter(kind="probe.quiet").count() == 1
    assert trigger.parent_event_id == events[-1].pk
    assert trigger.started_at >= events[-1].created_at + timedelta(seconds=2)
    assert probe.effects() == [trigger.pk]


def test_a_cancelled_trigger_does_nothing(reactor_stack):
    cancelled = schedule("probe.timer", due_at=timezone.now() + timedelta(seconds=1), dedupe_key="probe:cancel-me")
    later = schedule("probe.timer", due_at=timezone.now() + timedelta(seconds=2))
    assert cancel(kind="probe.timer", dedupe_key="probe:cancel-me")

    reactor_stack.wait_for(lambda: _finished(later), what="the trigger due after the cancelled one")

    assert _status(cancelled) == TriggerStatus.CANCELLED
    assert probe.runs(cancelled) == []
    assert probe.effects() == [later]


def test_a_trigger_goes_dead_after_its_attempts_with_the_error_kept(reactor_stack):
    trigger_id = schedule("probe.timer", due_at=timezone.now(), payload={"transient_failures": 99})

    reactor_stack.wait_for(lambda: _status(trigger_id) == TriggerStatus.DEAD, what="the trigger to go dead")

    trigger = Trigger.objects.get(pk=trigger_id)
    assert trigger.attempts == 3
    assert "transient failure on attempt 3" in trigger.last_error
    assert [run[1] for run in probe.runs(trigger_id)] == [1, 2, 3]
    assert probe.effects(trigger_id) == []


def test_a_worker_killed_mid_effect_runs_it_again_and_the_effect_happens_once(reactor_stack):
    # The effect is written, then the run lingers before committing: the kill lands between the two.
    trigger_id = schedule("probe.timer", due_at=timezone.now(), payload={"linger": 30})
    reactor_stack.wait_for(lambda: probe.runs(trigger_id), what="the first run to start")
    time.sleep(0.5)
    reactor_stack.workers[-1].kill()
    Trigger.objects.filter(pk=trigger_id).update(payload={})
    reactor_stack.start_worker()

    reactor_stack.wait_for(lambda: _finished(trigger_id), timeout=90, what="the rerun")

    trigger = Trigger.objects.get(pk=trigger_id)
    assert trigger.status == TriggerStatus.DONE
    assert [run[1] for run in probe.runs(trigger_id)] == [1, 2]
    assert probe.effects(trigger_id) == [trigger_id]
    assert trigger.attempts == 2


def test_after_a_redis_flushall_every_pending_and_enqueued_trigger_still_fires_once(reactor_stack):
    # Two slow triggers occupy both pool processes, so the next ones wait in Redis when it is flushed.
    blockers = [schedule("probe.timer", due_at=timezone.now(), payload={"sleep": 3}) for _ in range(2)]
    reactor_stack.wait_for(lambda: len(probe.runs()) == 2, what="both blockers to run")
    queued = [schedule("probe.timer", due_at=timezone.now()) for _ in range(10)]
    reactor_stack.wait_for(
        lambda: Trigger.objects.filter(pk__in=queued, status=TriggerStatus.ENQUEUED).count() == 10,
        what="the queued triggers to reach Redis",
    )
    pending = [schedule("probe.timer", due_at=timezone.now() + timedelta(seconds=2)) for _ in range(10)]

    assert reactor_stack.redis.command("FLUSHALL").startswith(b"+OK")

    everything = [*blockers, *queued, *pending]
    reactor_stack.wait_for(lambda: _finished(*everything), timeout=90, what="every trigger after the flush")
    assert sorted(map(str, probe.effects())) == sorted(map(str, everything))
    assert set(Trigger.objects.filter(pk__in=everything).values_list("status", flat=True)) == {TriggerStatus.DONE}


def test_a_thousand_triggers_due_in_one_second_give_a_thousand_executions_and_no_duplicate(reactor_stack):
    due_at = timezone.now() + timedelta(seconds=1)
    with transaction.atomic():
        ids = [schedule("probe.timer", due_at=due_at) for _ in range(1000)]

    reactor_stack.wait_for(lambda: _finished(*ids), timeout=180, what="a thousand triggers")

    effects = probe.effects()
    assert len(effects) == 1000
    assert sorted(map(str, effects)) == sorted(map(str, ids))
    runs = probe.runs()
    assert len(runs) == len({run[0] for run in runs}) == 1000


def test_two_dispatchers_never_send_one_trigger_twice(reactor_stack):
    second = reactor_stack.start_dispatcher()
    try:
        with transaction.atomic():
            ids = [schedule("probe.timer", due_at=timezone.now() + timedelta(seconds=1)) for _ in range(200)]
        reactor_stack.wait_for(
            lambda: not Trigger.objects.filter(pk__in=ids, status=TriggerStatus.PENDING).exists(),
            what="every trigger to be sent",
        )
        sent = dict(Trigger.objects.filter(pk__in=ids).values_list("id", "sent_count"))
        reactor_stack.wait_for(lambda: _finished(*ids), timeout=120, what="every trigger to run")
    finally:
        second.stop()
        reactor_stack.dispatchers.remove(second)

    assert set(sent.values()) == {1}
    assert "sent" in second.output()
    assert sorted(map(str, probe.effects())) == sorted(map(str, ids))


def test_with_notify_disabled_triggers_still_fire_on_time(reactor_stack):
    reactor_stack.stop_dispatchers()
    reactor_stack.start_dispatcher(DIT_REACTOR_NOTIFY="false")
    try:
        with override_settings(DIT_REACTOR_NOTIFY=False):
            due_at = timezone.now() + timedelta(seconds=2)
            trigger_id = schedule("probe.timer", due_at=due_at)

        reactor_stack.wait_for(lambda: _finished(trigger_id), what="the timer without NOTIFY")
    finally:
        reactor_stack.stop_dispatchers()
        reactor_stack.start_dispatcher()

    trigger = Trigger.objects.get(pk=trigger_id)
    assert trigger.status == TriggerStatus.DONE
    assert trigger.started_at is not None
    assert trigger.started_at >= due_at
    assert probe.effects(trigger_id) == [trigger_id]
