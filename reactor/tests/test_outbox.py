"""Events create, debounce, combine, cancel and wake triggers in the transaction that emits them."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from reactor.choices import EventKind, TriggerMode, TriggerStatus
from reactor.declare import Declaration, Registry, after, on, per_channel
from reactor.models import ReactorEvent, Trigger
from reactor.outbox import EventRow, emit_statement, writes_for
from reactor.services import emit_event, schedule

pytestmark = pytest.mark.usefixtures("probes")


def _emit(kind, channel="c-1", **payload):
    return emit_event(kind, {"probe": True, **payload}, guild_id="g-1", channel_id=channel)


def test_an_event_creates_the_trigger_listening_for_it_with_its_lineage():
    event = _emit(EventKind.REACTION_ADDED, emoji="🔥")

    trigger = Trigger.objects.get(kind="probe.on_reaction")
    assert trigger.parent_event_id == event.pk
    assert trigger.payload["event"]["id"] == event.pk
    assert trigger.due_at == event.created_at
    assert trigger.mode == TriggerMode.EVENT
    assert trigger.payload["event"]["emoji"] == "🔥"
    assert (trigger.guild_id, trigger.channel_id) == ("g-1", "c-1")


def test_an_event_and_every_trigger_it_writes_are_one_statement(django_assert_num_queries):
    with django_assert_num_queries(1):
        event = _emit(EventKind.BOT_SPOKE)

    timers = Trigger.objects.filter(parent_event_id=event.pk)
    assert sorted(timers.values_list("kind", flat=True)) == ["probe.both", "probe.quiet"]
    quiet = timers.get(kind="probe.quiet")
    assert (quiet.due_at - event.created_at).total_seconds() == pytest.approx(2.0)


def test_an_event_whose_key_was_used_writes_no_triggers():
    first = emit_event(
        EventKind.REACTION_ADDED,
        {"probe": True, "emoji": "🔥"},
        guild_id="g-1",
        channel_id="c-1",
        idempotency_key="reaction:1",
    )
    Trigger.objects.all().delete()

    again = emit_event(
        EventKind.REACTION_ADDED,
        {"probe": True, "emoji": "🔥"},
        guild_id="g-1",
        channel_id="c-1",
        idempotency_key="reaction:1",
    )

    assert first is not None
    assert again is None
    assert not Trigger.objects.exists()


def test_an_event_the_match_refuses_creates_nothing():
    _emit(EventKind.REACTION_ADDED, emoji="👍")
    emit_event(EventKind.REACTION_ADDED, {"emoji": "🔥"}, guild_id="g-1", channel_id="c-1")

    assert not Trigger.objects.filter(kind="probe.on_reaction").exists()


def test_a_debounced_timer_is_one_row_pushed_back_by_every_event():
    first = _emit(EventKind.BOT_SPOKE)
    # Further apart than the timer's granularity (1% of its 2 s silence).
    time.sleep(0.05)
    last = _emit(EventKind.BOT_SPOKE)

    trigger = Trigger.objects.get(kind="probe.quiet")
    assert trigger.dedupe_key == "probe.quiet:c-1"
    assert trigger.due_at > first.created_at + timedelta(seconds=2)
    assert trigger.parent_event_id == last.pk
    assert (trigger.due_at - last.created_at).total_seconds() == pytest.approx(2.0)


def test_a_push_smaller_than_the_granularity_leaves_the_timer_row_alone():
    first = _emit(EventKind.BOT_SPOKE)
    before = Trigger.objects.get(kind="probe.quiet")

    _emit(EventKind.BOT_SPOKE)

    after = Trigger.objects.get(kind="probe.quiet")
    assert (after.due_at, after.parent_event_id) == (before.due_at, first.pk)


def test_channels_get_timers_of_their_own():
    _emit(EventKind.BOT_SPOKE, channel="c-1")
    _emit(EventKind.BOT_SPOKE, channel="c-2")

    assert sorted(Trigger.objects.filter(kind="probe.quiet").values_list("channel_id", flat=True)) == ["c-1", "c-2"]


def test_a_cancelling_event_cancels_the_waiting_timer_of_its_key():
    _emit(EventKind.TURN_FINISHED)
    _emit(EventKind.MUTE_EXPIRED, channel="c-other")
    assert Trigger.objects.get(kind="probe.quiet_or_stop").status == TriggerStatus.PENDING

    _emit(EventKind.MUTE_EXPIRED)

    trigger = Trigger.objects.get(kind="probe.quiet_or_stop")
    assert trigger.status == TriggerStatus.CANCELLED
    assert trigger.last_error == "cancelled by mute.expired"


def test_all_of_counts_its_event_parts_in_sql_and_is_due_only_when_all_arrived():
    _emit(EventKind.REACTION_ADDED, emoji="👍")
    halfway = Trigger.objects.get(kind="probe.both")
    assert (halfway.parts_all, halfway.parts_met, halfway.due_at) == (0b11, 0b01, None)

    _emit(EventKind.BOT_SPOKE)

    complete = Trigger.objects.get(kind="probe.both")
    assert complete.pk == halfway.pk
    assert complete.parts_met == 0b11
    assert complete.due_at is not None
    assert complete.mode == TriggerMode.COMPOSITE


def test_any_of_is_due_at_its_first_part():
    event = _emit(EventKind.TURN_FINISHED)

    trigger = Trigger.objects.get(kind="probe.either")
    assert trigger.parts_met == 0b10
    assert trigger.due_at is not None
    assert trigger.due_at >= event.created_at


def test_a_predicate_trigger_is_armed_by_its_events_and_coalesces_them():
    _emit(EventKind.BUDGET_PERIOD_OPENED)
    _emit(EventKind.BUDGET_PERIOD_OPENED)

    trigger = Trigger.objects.get(kind="probe.flag")
    assert trigger.mode == TriggerMode.PREDICATE
    assert trigger.predicate == {"when": "flag_is_set", "on": ["budget.period_opened"]}
    assert trigger.due_at is not None


def test_triggers_roll_back_with_the_state_change_that_emitted_their_event():
    def emit_then_fail():
        with transaction.atomic():
            _emit(EventKind.REACTION_ADDED, emoji="🔥")
            raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        emit_then_fail()

    assert not ReactorEvent.objects.exists()
    assert not Trigger.objects.exists()


def test_an_event_carrying_a_wake_key_makes_the_trigger_listing_it_due_now():
    sleeper = schedule("probe.timer", due_at=None, wake_keys=["probe-wake:m-1"])
    other = schedule("probe.timer", due_at=None, wake_keys=["probe-wake:m-2"])

    _emit(EventKind.MESSAGE_EDITED, target="m-1")

    assert Trigger.objects.get(pk=sleeper).due_at is not None
    assert Trigger.objects.get(pk=other).due_at is None


def _effect(run):
    raise AssertionError("not run in this test")


def test_rows_offered_with_one_merge_rule_travel_as_one_write_and_land_with_their_own_times():
    declarations = Registry()
    for n in range(6):
        declarations.add(
            Declaration(f"probe.many_{n}", _effect, after(delay=timedelta(seconds=n + 1), on=EventKind.BOT_SPOKE))
        )
    declarations.add(Declaration("probe.many_on", _effect, on(EventKind.BOT_SPOKE, key=per_channel)))
    declarations.add(
        Declaration("probe.many_quiet", _effect, after(silence=timedelta(seconds=30), on=EventKind.BOT_SPOKE))
    )
    event = ReactorEvent(
        kind=EventKind.BOT_SPOKE, payload={"probe": True}, guild_id="g-1", channel_id="c-1", created_at=timezone.now()
    )

    writes = writes_for(event, declarations=declarations)
    # Seven rows kept as they are when waiting (one write) and one debounced timer (another).
    assert len(writes) == 2
    assert sorted(len(write.params) for write in writes) == [1, 2]

    statement, params = emit_statement(EventRow(str(event.kind), '{"probe": true}', "g-1", "c-1", None), writes)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        event_id, stored_at, written, cancelled, woken, _ = cursor.fetchone()
    assert (written, cancelled, woken) == (8, 0, 0)
    rows = {t.kind: t for t in Trigger.objects.filter(parent_event_id=event_id)}
    assert len(rows) == 8
    for n in range(6):
        assert (rows[f"probe.many_{n}"].due_at - stored_at).total_seconds() == pytest.approx(n + 1)
        assert rows[f"probe.many_{n}"].payload["event"]["id"] == event_id
    assert rows["probe.many_on"].dedupe_key == "probe.many_on:c-1"
    assert (rows["probe.many_quiet"].due_at - stored_at).total_seconds() == pytest.approx(30)
    assert all(t.status == TriggerStatus.PENDING and t.attempts == 0 and t.expires_at is None for t in rows.values())
