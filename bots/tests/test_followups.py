"""Self-followups in the database: the roll after a turn, the trigger, and what its evaluation does."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from bots.followups import FOLLOWUP_TRIGGER, FinishedTurn, schedule_followup
from bots.scheduled_turns import TURN_EXPIRY_TRIGGER, ScheduledTurn, expire_turn, recipient_for, turn_finished
from bots.tests.factories import BotFactory
from bots.tests.reactorkit import CHANNEL, GUILD, decision_of, followup_after, human_said
from bots.turn_settings import FollowupConfig
from dispositions.models import DispositionDecision
from dispositions.specs import FollowupHint
from memory.ingest import ingest_message
from memory.reactions import ReactionChange, record_reaction
from memory.tests.factories import IngestMessageFactory
from reactor.choices import DeliveryStatus, FollowupStatus, TriggerStatus
from reactor.models import Delivery, SelfFollowupSchedule, Trigger
from reactor.tests.running import run_inline

pytestmark = pytest.mark.django_db


def _trigger_id(followup: SelfFollowupSchedule) -> uuid.UUID:
    assert followup.trigger_id is not None
    return followup.trigger_id


def _turn(bot, **changes) -> FinishedTurn:
    decision = decision_of(bot)
    values = {
        "decision_id": decision.pk,
        "bot_id": bot.pk,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "trigger_kind": "reactive",
        "seed": 12345,
        "hint": FollowupHint(probability=0.5, bias="add-nuance", window_min_seconds=30, window_max_seconds=120),
        "bot_message_ids": ("m-bot-1", "m-bot-2"),
        "said": ("first", "second"),
    }
    values.update(changes)
    return FinishedTurn(**values)


def _landing_seed(probability: float, *, lands: bool) -> int:
    from dispositions.followups import roll_followup

    hint = FollowupHint(probability=probability, bias="add-nuance", window_min_seconds=30, window_max_seconds=120)
    return next(seed for seed in range(1000) if roll_followup(hint, seed=seed).lands is lands)


def test_a_landing_roll_schedules_an_evaluation_within_the_window_linked_from_the_decision():
    bot = BotFactory.create()
    turn = _turn(bot, seed=_landing_seed(0.5, lands=True))
    before = timezone.now()

    followup = schedule_followup(turn)

    assert followup is not None
    assert followup.bias == "add-nuance"
    assert before + timedelta(seconds=30) <= followup.scheduled_for <= timezone.now() + timedelta(seconds=120)
    assert followup.roll < 0.5
    trigger = Trigger.objects.get(kind=FOLLOWUP_TRIGGER)
    assert followup.trigger_id == trigger.pk
    assert trigger.due_at == followup.scheduled_for
    assert trigger.payload == {"followup_id": followup.pk}
    assert set(trigger.wake_keys) == {"reply:m-bot-1", "react:m-bot-1", "reply:m-bot-2", "react:m-bot-2"}
    assert DispositionDecision.objects.get(pk=turn.decision_id).scheduled_followup_id == followup.pk


def test_the_roll_replays_from_the_seed():
    bot = BotFactory.create()
    seed = _landing_seed(0.5, lands=True)
    first = schedule_followup(_turn(bot, seed=seed))
    second = schedule_followup(_turn(bot, seed=seed))

    assert first is not None
    assert second is not None
    assert first.roll == second.roll
    delays = [(f.scheduled_for - f.created_at).total_seconds() for f in (first, second)]
    assert abs(delays[0] - delays[1]) < 1.0


def test_a_roll_that_misses_schedules_nothing():
    bot = BotFactory.create()

    assert schedule_followup(_turn(bot, seed=_landing_seed(0.5, lands=False))) is None
    assert not SelfFollowupSchedule.objects.exists()
    assert not Trigger.objects.exists()


def test_a_follow_up_turn_a_silent_turn_or_a_hintless_disposition_schedule_nothing():
    bot = BotFactory.create()
    sure = FollowupHint(probability=1.0, bias="go-deeper", window_min_seconds=1, window_max_seconds=2)

    assert schedule_followup(_turn(bot, hint=sure, trigger_kind="self_followup")) is None
    assert schedule_followup(_turn(bot, hint=sure, bot_message_ids=())) is None
    assert schedule_followup(_turn(bot, hint=None)) is None
    assert schedule_followup(_turn(bot, hint=sure), config=FollowupConfig.build(enabled=False)) is None
    assert not SelfFollowupSchedule.objects.exists()


def test_when_its_moment_holds_it_fires_a_turn_for_the_bot_with_the_bias_and_the_previous_turn():
    followup = followup_after()

    run_inline(_trigger_id(followup))

    followup.refresh_from_db()
    assert followup.status == FollowupStatus.FIRED
    assert followup.evaluations[-1]["verdict"] == "fire"
    delivery = Delivery.objects.get(pk=_trigger_id(followup))
    assert delivery.recipient == recipient_for(followup.bot_id)
    assert delivery.status == DeliveryStatus.WAITING
    turn = ScheduledTurn.from_payload(delivery.payload)
    assert (turn.trigger_kind, turn.bias, turn.parent_decision_id) == (
        "self_followup",
        "go-deeper",
        followup.parent_decision_id,
    )
    assert turn.previous is not None
    assert turn.previous.said == ("pizza ovens are all about heat",)
    assert turn.previous.bot_message_ids == ("m-bot-1",)
    expiry = Trigger.objects.get(kind=TURN_EXPIRY_TRIGGER)
    assert expiry.due_at == delivery.expires_at


def test_a_human_reply_wakes_the_follow_up_at_once_and_aborts_it():
    followup = followup_after(
        hint=FollowupHint(probability=1.0, bias="go-deeper", window_min_seconds=600, window_max_seconds=600)
    )
    trigger = Trigger.objects.get(pk=_trigger_id(followup))
    assert trigger.due_at is not None
    assert trigger.due_at > timezone.now() + timedelta(minutes=9)

    ingest_message(IngestMessageFactory.build(guild_id=GUILD, channel_id=CHANNEL, reply_to_message_id="m-bot-1"))

    trigger.refresh_from_db()
    assert trigger.due_at is not None
    assert trigger.due_at <= timezone.now()
    run_inline(trigger.pk)
    followup.refresh_from_db()
    assert (followup.status, followup.abort_reason) == (FollowupStatus.ABORTED, "a human replied to the bot's message")
    assert not Delivery.objects.exists()


def test_a_doubtful_reaction_wakes_it_and_makes_it_a_self_correction_still_due_at_its_time():
    followup = followup_after(
        hint=FollowupHint(probability=1.0, bias="go-deeper", window_min_seconds=600, window_max_seconds=600)
    )

    record_reaction(
        ReactionChange(
            platform="discord",
            message_id="m-bot-1",
            guild_id=GUILD,
            channel_id=CHANNEL,
            is_dm=False,
            user_id="u-bob",
            user_is_bot=False,
            emoji="🤔",
            added=True,
        )
    )
    run_inline(_trigger_id(followup))

    followup.refresh_from_db()
    assert (followup.status, followup.bias) == (FollowupStatus.SCHEDULED, "self-correct")
    assert followup.evaluations[-1]["verdict"] == "wait"
    waiting = Trigger.objects.get(pk=_trigger_id(followup))
    assert waiting.status == TriggerStatus.PENDING
    assert waiting.due_at == followup.scheduled_for
    assert waiting.parent_trigger_id is not None


def _turn_was_minutes_ago(followup) -> None:
    SelfFollowupSchedule.objects.filter(pk=followup.pk).update(created_at=timezone.now() - timedelta(minutes=5))


def test_someone_mid_thought_defers_it_with_a_new_trigger_in_its_lineage():
    followup = followup_after()
    _turn_was_minutes_ago(followup)
    first = _trigger_id(followup)
    human_said("wait so about the oven", seconds_ago=2)

    run_inline(first)

    followup.refresh_from_db()
    assert (followup.status, followup.defers) == (FollowupStatus.SCHEDULED, 1)
    later = Trigger.objects.get(pk=_trigger_id(followup))
    assert later.parent_trigger_id == first
    assert later.due_at == followup.scheduled_for


def test_a_conversation_that_moved_on_downgrades_it_to_a_later_callback():
    followup = followup_after()
    _turn_was_minutes_ago(followup)
    for n, text in enumerate(["did you see the match", "what a goal", "the keeper though", "ref was blind"]):
        human_said(text, seconds_ago=100 - n)

    run_inline(_trigger_id(followup))

    followup.refresh_from_db()
    assert followup.status == FollowupStatus.DOWNGRADED
    callback = SelfFollowupSchedule.objects.get(downgraded_from=followup)
    assert (callback.bias, callback.status, callback.parent_decision_id) == (
        "callback-later",
        FollowupStatus.SCHEDULED,
        followup.parent_decision_id,
    )
    assert callback.scheduled_for >= timezone.now() + timedelta(seconds=290)


def test_a_turn_the_bot_did_not_take_in_time_expires_with_its_follow_up():
    followup = followup_after()
    run_inline(_trigger_id(followup))
    Delivery.objects.filter(pk=_trigger_id(followup)).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert expire_turn(delivery_id=_trigger_id(followup), followup_id=followup.pk)

    followup.refresh_from_db()
    assert followup.status == FollowupStatus.EXPIRED
    assert Delivery.objects.get(pk=_trigger_id(followup)).status == DeliveryStatus.EXPIRED


def test_a_finished_turn_links_its_decision_to_the_follow_up_and_the_trigger():
    followup = followup_after()
    run_inline(_trigger_id(followup))
    delivery = Delivery.objects.get(pk=_trigger_id(followup))
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.CLAIMED)
    turn = ScheduledTurn.from_payload(delivery.payload)

    turn_finished(turn, decision_id=4242, end="spoke")

    followup.refresh_from_db()
    assert followup.fired_decision_id == 4242
    assert Delivery.objects.get(pk=delivery.pk).outcome == {"decision_id": 4242, "end": "spoke"}
    assert Trigger.objects.get(pk=_trigger_id(followup)).result["turn"] == {"decision_id": 4242, "end": "spoke"}
