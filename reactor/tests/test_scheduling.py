"""schedule, cancel and requeue: triggers made in code, deduplicated by key, announced by NOTIFY on commit."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from reactor.choices import TriggerStatus
from reactor.errors import InvalidTrigger, TriggerNotFound, TriggerNotRequeueable
from reactor.models import Trigger
from reactor.rows import WAKE_CHANNEL
from reactor.services import cancel, schedule, trigger_cancel, trigger_requeue

pytestmark = pytest.mark.usefixtures("probes")


def test_an_undeclared_kind_is_refused_naming_where_to_declare_it():
    with pytest.raises(InvalidTrigger, match="no trigger kind 'nobody.knows' is declared"):
        schedule("nobody.knows", due_at=timezone.now())


def test_a_naive_due_time_is_refused():
    with pytest.raises(InvalidTrigger, match="due_at must be a timezone-aware datetime"):
        schedule("probe.timer", due_at=datetime(2030, 1, 1))  # noqa: DTZ001


def test_a_payload_that_is_not_json_is_refused():
    with pytest.raises(InvalidTrigger, match="not JSON-serializable"):
        schedule("probe.timer", due_at=timezone.now(), payload={"x": object()})


def test_one_waiting_trigger_per_dedupe_key_keep_replace_or_earliest():
    now = timezone.now()
    first = schedule("probe.timer", due_at=now + timedelta(hours=2), dedupe_key="k", payload={"n": 1})

    kept = schedule("probe.timer", due_at=now + timedelta(hours=1), dedupe_key="k", payload={"n": 2})
    assert kept == first
    assert Trigger.objects.get(pk=first).due_at == now + timedelta(hours=2)

    earliest = schedule("probe.timer", due_at=now + timedelta(hours=3), dedupe_key="k", on_conflict="earliest")
    assert Trigger.objects.get(pk=earliest).due_at == now + timedelta(hours=2)
    schedule("probe.timer", due_at=now + timedelta(hours=1), dedupe_key="k", on_conflict="earliest")
    assert Trigger.objects.get(pk=first).due_at == now + timedelta(hours=1)

    schedule("probe.timer", due_at=now + timedelta(hours=5), dedupe_key="k", on_conflict="replace", payload={"n": 3})
    row = Trigger.objects.get(pk=first)
    assert (row.due_at, row.payload) == (now + timedelta(hours=5), {"n": 3})
    assert Trigger.objects.count() == 1


def test_a_finished_trigger_frees_its_key():
    first = schedule("probe.timer", due_at=timezone.now(), dedupe_key="k")
    Trigger.objects.filter(pk=first).update(status=TriggerStatus.DONE)

    second = schedule("probe.timer", due_at=timezone.now(), dedupe_key="k")

    assert second != first


def test_cancel_by_key_and_by_id_touch_only_waiting_triggers():
    waiting = schedule("probe.timer", due_at=timezone.now(), dedupe_key="k")
    running = schedule("probe.timer", due_at=timezone.now())
    Trigger.objects.filter(pk=running).update(status=TriggerStatus.RUNNING)

    assert cancel(kind="probe.timer", dedupe_key="k", reason="no longer wanted")
    assert not cancel(kind="probe.timer", dedupe_key="k")
    assert not trigger_cancel(trigger_id=running)
    row = Trigger.objects.get(pk=waiting)
    assert (row.status, row.last_error) == (TriggerStatus.CANCELLED, "no longer wanted")


def test_requeue_gives_a_dead_trigger_fresh_attempts_due_now():
    trigger_id = schedule("probe.timer", due_at=timezone.now() - timedelta(days=1))
    Trigger.objects.filter(pk=trigger_id).update(status=TriggerStatus.DEAD, attempts=3, last_error="boom")

    row = trigger_requeue(trigger_id=trigger_id)

    assert (row.status, row.attempts) == (TriggerStatus.PENDING, 0)
    assert row.due_at is not None
    assert row.due_at > timezone.now() - timedelta(seconds=5)
    assert row.last_error == "boom"


def test_requeue_refuses_what_is_not_dead_or_cancelled_and_what_does_not_exist():
    trigger_id = schedule("probe.timer", due_at=timezone.now())

    with pytest.raises(TriggerNotRequeueable):
        trigger_requeue(trigger_id=trigger_id)
    with pytest.raises(TriggerNotFound):
        trigger_requeue(trigger_id=Trigger(kind="x").pk)


def _listener():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    conn = psycopg.Connection.connect(**params, autocommit=True)
    conn.execute(f"LISTEN {WAKE_CHANNEL}")
    return conn


def _heard(conn) -> int:
    return sum(1 for _ in conn.notifies(timeout=0.3))


@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_is_notified_on_commit_when_a_trigger_is_created_or_moved_earlier():
    listener = _listener()
    try:
        with transaction.atomic():
            schedule("probe.timer", due_at=timezone.now() + timedelta(hours=2), dedupe_key="k")
            assert _heard(listener) == 0
        assert _heard(listener) == 1

        schedule("probe.timer", due_at=timezone.now() + timedelta(hours=3), dedupe_key="k", on_conflict="earliest")
        assert _heard(listener) == 0
        schedule("probe.timer", due_at=timezone.now() + timedelta(hours=1), dedupe_key="k", on_conflict="earliest")
        assert _heard(listener) == 1

        def schedule_then_fail() -> None:
            with transaction.atomic():
                schedule("probe.timer", due_at=timezone.now())
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            schedule_then_fail()
        assert _heard(listener) == 0
    finally:
        listener.close()


@pytest.mark.django_db(transaction=True)
def test_with_notify_off_nothing_is_sent():
    listener = _listener()
    try:
        with override_settings(DIT_REACTOR_NOTIFY=False):
            schedule("probe.timer", due_at=timezone.now())
        assert _heard(listener) == 0
        assert Trigger.objects.count() == 1
    finally:
        listener.close()
