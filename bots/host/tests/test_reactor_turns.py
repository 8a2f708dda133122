"""The host and the reactor: a landed follow-up hint is scheduled after the turn, and a turn the reactor
hands over through the bot's inbox runs in its channel's lane, decided once per trigger."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.utils import timezone

from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from bots.inbox import TurnInbox
from bots.scheduled_turns import PreviousTurn, ScheduledTurn, deliver_turn
from dispositions.choices import OutputShape, TriggerKind
from dispositions.models import Disposition, DispositionDecision
from reactor.choices import DeliveryStatus
from reactor.models import Delivery, SelfFollowupSchedule, Trigger


@pytest.fixture
def own_layer(settings):
    """A Channels layer on the real Redis under a prefix of this test's own."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"test-host-inbox-{uuid.uuid4().hex[:10]}"},
        }
    }
    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


async def persona_with_followup(probability: float):
    def build():
        persona = make_persona()
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
        Disposition.objects.filter(slug="quick-react").update(
            followup_probability=probability,
            followup_bias="go-deeper",
            followup_window_min_seconds=600,
            followup_window_max_seconds=900,
        )
        return persona

    return await sync_to_async(build)()


async def test_a_landed_follow_up_hint_schedules_a_follow_up_after_the_turn(make_rig, gateway_on_openai_server):
    rig = await make_rig(persona=await persona_with_followup(1.0))
    gateway_on_openai_server.queue_reply(reply_json("rust is fine, mostly"))

    await rig.say("general", "alice", "@dit is rust any good?")

    decision = await DispositionDecision.objects.aget()
    followup = await SelfFollowupSchedule.objects.aget()
    assert followup.parent_decision_id == decision.pk
    assert decision.scheduled_followup_id == followup.pk
    assert followup.bias == "go-deeper"
    assert followup.bot_message_ids == [m.message.id for m in rig.adapter.bot_messages(rig.adapter.channel("general"))]
    assert await Trigger.objects.filter(payload__followup_id=followup.pk).aexists()
    # Watchers (the local chat) hear of it, with the delay the schedule was given.
    (heard,) = rig.recorder.followups
    assert (heard.decision_id, heard.bias, heard.channel_name) == (decision.pk, "go-deeper", "general")
    scheduled_after = (followup.scheduled_for - followup.created_at).total_seconds()
    assert abs(heard.delay_seconds - scheduled_after) < 5


async def test_a_hint_that_misses_its_roll_schedules_nothing(make_rig, gateway_on_openai_server):
    rig = await make_rig(persona=await persona_with_followup(0.0))
    gateway_on_openai_server.queue_reply(reply_json("rust is fine"))

    await rig.say("general", "alice", "@dit is rust any good?")

    assert await DispositionDecision.objects.acount() == 1
    assert not await SelfFollowupSchedule.objects.aexists()
    assert rig.recorder.followups == []


async def test_a_turn_handed_over_through_the_inbox_runs_once_with_its_trigger_seed_and_earlier_words(
    make_rig, gateway_on_openai_server, own_layer
):
    persona = await persona_with_followup(0.0)
    rig = await make_rig(persona=persona)
    # The inbox of the bot the rig created, on this test's layer (the runner gives every bot one).
    rig.host._inbox = TurnInbox(bot_id=rig.bot.pk, layer=own_layer)
    channel = rig.adapter.channel("general")
    gateway_on_openai_server.queue_reply(reply_json("actually, one more thing about rust"))

    def hand_over() -> uuid.UUID:
        trigger = Trigger.objects.create(kind="bots.self_followup", due_at=timezone.now())
        deliver_turn(
            ScheduledTurn(
                trigger_id=trigger.pk,
                bot_id=rig.bot.pk,
                guild_id=channel.guild_id,
                channel_id=channel.id,
                trigger_kind=TriggerKind.SELF_FOLLOWUP,
                seed=4242,
                expires_at=timezone.now() + timedelta(seconds=60),
                bias="go-deeper",
                previous=PreviousTurn(decision_id=1, said=("rust is fine, mostly",)),
            )
        )
        return trigger.pk

    trigger_id = await sync_to_async(hand_over)()
    rig.host._inbox_task = asyncio.create_task(rig.host._take_scheduled_turns())
    for _ in range(500):
        delivery = await Delivery.objects.aget(trigger_id=trigger_id)
        if delivery.status == DeliveryStatus.DONE:
            break
        await asyncio.sleep(0.02)
    await rig.host.idle()

    decision = await DispositionDecision.objects.aget(trigger_id=trigger_id)
    assert (decision.trigger_kind, decision.stochasticity_seed) == ("self_followup", 4242)
    # Watchers (the local chat) are told what started the turn and which turn it comes back to.
    (shown,) = rig.recorder.decisions
    assert (shown.decision_id, shown.trigger, shown.previous_decision_id) == (decision.pk, "self_followup", 1)
    assert delivery.status == DeliveryStatus.DONE
    assert [m.content for m in rig.adapter.bot_messages(channel)] == ["actually, one more thing about rust"]
    prompt = gateway_on_openai_server.chat_requests[-1].body["messages"][1]["content"]
    assert "A little while ago you said: rust is fine, mostly" in prompt
