"""Reactor-started turns for real: the Celery worker and dispatcher run the bots' triggers on a Redis of their
own, and the bot's inbox receives what they hand over through the Channels layer on that Redis."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels_redis.core import RedisChannelLayer
from django.test import override_settings
from django.utils import timezone

from bots.host.models import ChannelMute
from bots.inbox import TurnInbox
from bots.speculative import SPECULATIVE_TRIGGER
from bots.tests.factories import BotFactory, GuildFactory, manifest_data
from bots.tests.reactorkit import CHANNEL, GUILD, followup_after
from dispositions.specs import FollowupHint
from memory.ingest import ingest_message
from memory.tests.factories import IngestMessageFactory, TranscriptFactory
from reactor.choices import FollowupStatus, TriggerStatus
from reactor.models import Delivery, SelfFollowupSchedule, Trigger

pytestmark = pytest.mark.integration

SPEAKS_UNPROMPTED = [
    {
        "id": "unprompted",
        "label": "Unprompted turns",
        "fields": [
            {"key": "SPECULATIVE_ENABLED", "type": "boolean", "label": "Speak unprompted", "default": True},
            {"key": "SPECULATIVE_HOURS", "type": "string", "label": "Hours", "default": "0-23"},
            {"key": "SPECULATIVE_CHANCE", "type": "number", "label": "Chance", "default": 1, "min": 0, "max": 1},
        ],
    }
]


def _wait(stack, predicate, what):
    return stack.wait_for(predicate, timeout=60, what=what)


@pytest.fixture
async def stack_layer(reactor_stack, host_db):
    """A Channels layer on the stack's Redis, where the worker announces deliveries."""
    layer = RedisChannelLayer(hosts=[reactor_stack.redis.url])
    yield layer
    await layer.close_pools()


async def test_a_follow_up_fires_in_the_worker_and_reaches_the_bots_inbox(reactor_stack, stack_layer):
    followup = await sync_to_async(followup_after)()

    async with TurnInbox(bot_id=followup.bot_id, layer=stack_layer) as inbox:
        turn = await asyncio.wait_for(inbox.next_turn(), timeout=60)
        await inbox.finish(turn, decision_id=None, end="silent")

    await followup.arefresh_from_db()
    assert followup.status == FollowupStatus.FIRED
    assert (turn.trigger_id, turn.trigger_kind, turn.bias) == (followup.trigger_id, "self_followup", "go-deeper")
    assert turn.previous is not None
    assert turn.previous.decision_id == followup.parent_decision_id
    delivery = await Delivery.objects.aget(pk=turn.trigger_id)
    assert delivery.outcome == {"decision_id": None, "end": "silent"}


@pytest.mark.django_db(transaction=True)
def test_a_human_reply_aborts_the_pending_follow_up_in_the_worker(reactor_stack):
    hint = FollowupHint(probability=1.0, bias="add-nuance", window_min_seconds=600, window_max_seconds=600)
    followup = followup_after(hint=hint)

    ingest_message(IngestMessageFactory.build(guild_id=GUILD, channel_id=CHANNEL, reply_to_message_id="m-bot-1"))

    _wait(
        reactor_stack,
        lambda: SelfFollowupSchedule.objects.filter(pk=followup.pk, status=FollowupStatus.ABORTED).exists(),
        "the follow-up to be aborted",
    )
    followup.refresh_from_db()
    assert followup.abort_reason == "a human replied to the bot's message"
    assert not Delivery.objects.exists()


@pytest.mark.django_db(transaction=True)
@override_settings(DIT_SPECULATIVE_QUIET_MINUTES=0.02)
def test_a_quiet_channel_gets_a_speculative_turn_only_where_its_composite_holds(reactor_stack):
    bot = BotFactory.create(manifest=manifest_data(groups=SPEAKS_UNPROMPTED))
    GuildFactory.create(bot=bot, external_id=GUILD)
    ChannelMute.objects.create(
        bot=bot,
        guild_id=GUILD,
        channel_id="c-muted",
        source="phrase",
        muted_by="alice",
        until=timezone.now() + timedelta(hours=1),
    )
    for channel in ("c-open", "c-muted"):
        for n in range(12):
            TranscriptFactory.create(
                guild_id=GUILD, channel_id=channel, created_at=timezone.now() - timedelta(minutes=20 + 10 * n)
            )
        # The last word in each channel starts its quiet timer (1.2 s here).
        ingest_message(IngestMessageFactory.build(guild_id=GUILD, channel_id=channel))

    done = _wait(
        reactor_stack,
        lambda: Trigger.objects.filter(kind=SPECULATIVE_TRIGGER, status=TriggerStatus.DONE).count() == 2 or None,
        "both channels' composites",
    )
    assert done
    fired = Trigger.objects.get(kind=SPECULATIVE_TRIGGER, channel_id="c-open")
    held = Trigger.objects.get(kind=SPECULATIVE_TRIGGER, channel_id="c-muted")
    assert fired.result["fired"] is True
    assert held.result["held"] is False
    assert {c["part"]: c["holds"] for c in held.result["checks"]}["not_muted"] is False
    assert list(Delivery.objects.values_list("trigger_id", flat=True)) == [fired.pk]
    assert fired.parent_trigger is not None
    assert fired.parent_trigger.kind == "bots.speculative_quiet"
