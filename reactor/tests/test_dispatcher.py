"""The dispatcher in one process: what is due is sent once, lost leases come back, expired rows are cancelled."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from reactor.choices import TriggerStatus
from reactor.dispatcher import Dispatcher, DispatcherConfig
from reactor.models import Trigger
from reactor.services import schedule

pytestmark = pytest.mark.usefixtures("probes")


class Recorder:
    """A sender that keeps what it was given (and can refuse everything)."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.sent: list = []
        self.refuse = refuse
        self.lock = threading.Lock()

    def __call__(self, ids):
        if self.refuse:
            return list(ids)
        with self.lock:
            self.sent.extend(ids)
        return []


def _dispatcher(sender, **config):
    return Dispatcher(sender=sender, config=DispatcherConfig(listen=False, **config))


def test_only_what_is_due_is_sent_and_it_is_sent_once():
    now = timezone.now()
    due = schedule("probe.timer", due_at=now - timedelta(seconds=1))
    later = schedule("probe.timer", due_at=now + timedelta(hours=1))
    waiting = schedule("probe.timer", due_at=None)
    sender = Recorder()
    dispatcher = _dispatcher(sender)

    first = dispatcher.step()
    second = dispatcher.step()

    assert sender.sent == [due]
    assert (first.sent, second.sent) == (1, 0)
    row = Trigger.objects.get(pk=due)
    assert (row.status, row.sent_count) == (TriggerStatus.ENQUEUED, 1)
    assert row.lease_until is not None
    assert row.lease_until > timezone.now()
    assert Trigger.objects.get(pk=later).status == Trigger.objects.get(pk=waiting).status == TriggerStatus.PENDING
    assert second.next_wake == row.lease_until


def test_the_next_wake_is_the_earliest_due_time():
    soon = timezone.now() + timedelta(minutes=3)
    schedule("probe.timer", due_at=soon)
    schedule("probe.timer", due_at=soon + timedelta(minutes=1))

    done = _dispatcher(Recorder()).step()

    assert done.next_wake == soon
    assert 170 < _dispatcher(Recorder(), max_sleep=600).sleep_for(done) <= 180
    assert _dispatcher(Recorder(), max_sleep=5).sleep_for(done) == 5


def test_a_batch_larger_than_the_batch_size_is_sent_in_several_claims():
    for _ in range(7):
        schedule("probe.timer", due_at=timezone.now())
    sender = Recorder()

    done = _dispatcher(sender, batch_size=3).step()

    assert done.sent == 7
    assert len(set(sender.sent)) == 7


def test_a_failed_send_puts_the_triggers_back_at_once():
    trigger_id = schedule("probe.timer", due_at=timezone.now())

    done = _dispatcher(Recorder(refuse=True)).step()

    row = Trigger.objects.get(pk=trigger_id)
    assert (done.sent, done.unsent) == (0, 1)
    assert (row.status, row.sent_count, row.lease_until) == (TriggerStatus.PENDING, 0, None)


def test_an_enqueued_trigger_whose_lease_ran_out_is_sent_again():
    trigger_id = schedule("probe.timer", due_at=timezone.now())
    sender = Recorder()
    dispatcher = _dispatcher(sender)
    dispatcher.step()
    Trigger.objects.filter(pk=trigger_id).update(lease_until=timezone.now() - timedelta(seconds=1))

    done = dispatcher.step()

    row = Trigger.objects.get(pk=trigger_id)
    assert done.recovered == 1
    assert sender.sent == [trigger_id, trigger_id]
    assert row.sent_count == 2
    assert "before a worker started it" in row.last_error


def test_a_running_trigger_of_a_lost_worker_is_run_again_until_its_attempts_are_used():
    retried = schedule("probe.timer", due_at=timezone.now())
    exhausted = schedule("probe.timer", due_at=timezone.now())
    expired = timezone.now() - timedelta(seconds=1)
    Trigger.objects.filter(pk=retried).update(status=TriggerStatus.RUNNING, attempts=1, lease_until=expired)
    Trigger.objects.filter(pk=exhausted).update(status=TriggerStatus.RUNNING, attempts=3, lease_until=expired)

    done = _dispatcher(Recorder()).step()

    assert (done.recovered, done.dead) == (1, 1)
    assert Trigger.objects.get(pk=retried).status == TriggerStatus.ENQUEUED
    dead = Trigger.objects.get(pk=exhausted)
    assert dead.status == TriggerStatus.DEAD
    assert dead.last_error == "lease ran out while running (the worker was lost) on attempt 3"


def test_a_pending_trigger_past_its_expiry_is_cancelled_not_sent():
    trigger_id = schedule("probe.timer", due_at=timezone.now(), expires_at=timezone.now() - timedelta(seconds=1))
    sender = Recorder()

    done = _dispatcher(sender).step()

    row = Trigger.objects.get(pk=trigger_id)
    assert (done.expired, sender.sent) == (1, [])
    assert row.status == TriggerStatus.CANCELLED
    assert row.result == {"expired": True}


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_claiming_at_once_never_send_one_trigger_twice():
    ids = [schedule("probe.timer", due_at=timezone.now()) for _ in range(300)]
    sender = Recorder()
    barrier = threading.Barrier(2)

    def serve() -> None:
        try:
            dispatcher = _dispatcher(sender, batch_size=20)
            barrier.wait()
            dispatcher.step()
        finally:
            connection.close()

    threads = [threading.Thread(target=serve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connections.close_all()

    assert sorted(sender.sent) == sorted(ids)
    assert set(Trigger.objects.values_list("sent_count", flat=True)) == {1}
