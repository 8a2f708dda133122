"""The bot's inbox of scheduled turns, on the real Redis (Channels layer) and Postgres."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.utils import timezone

from bots.inbox import TurnInbox
from bots.scheduled_turns import TURN_DELIVERY, ScheduledTurn, recipient_for
from reactor.choices import DeliveryStatus
from reactor.models import Delivery, Trigger
from reactor.services import delivery_create

BOT_ID = 4242


@pytest.fixture
def own_layer(settings):
    """A Channels layer on the real Redis under a prefix of this test's own."""
    prefix = f"test-inbox-{uuid.uuid4().hex[:10]}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": prefix},
        }
    }
    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


@pytest.fixture
async def layer(own_layer, host_db):
    yield own_layer
    await own_layer.flush()
    await own_layer.close_pools()


def _hand_over(*, expires_in: float = 60.0, channel_id: str = "c-1") -> uuid.UUID:
    trigger = Trigger.objects.create(kind="bots.speculative", due_at=timezone.now())
    turn = ScheduledTurn(
        trigger_id=trigger.pk,
        bot_id=BOT_ID,
        guild_id="g-1",
        channel_id=channel_id,
        trigger_kind="speculative",
        seed=99,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
    )
    delivery_create(
        trigger_id=trigger.pk,
        recipient=recipient_for(BOT_ID),
        kind=TURN_DELIVERY,
        payload=turn.as_payload(),
        expires_at=turn.expires_at,
    )
    return trigger.pk


hand_over = sync_to_async(_hand_over)


async def test_a_turn_handed_over_while_the_bot_was_down_is_taken_when_it_starts(layer):
    waiting = await hand_over()

    async with TurnInbox(bot_id=BOT_ID, layer=layer) as inbox:
        turn = await asyncio.wait_for(inbox.next_turn(), timeout=5)

    assert (turn.trigger_id, turn.trigger_kind, turn.seed) == (waiting, "speculative", 99)
    delivery = await Delivery.objects.aget(pk=waiting)
    assert delivery.status == DeliveryStatus.CLAIMED


async def test_a_turn_handed_over_while_the_bot_listens_arrives_through_the_layer(layer):
    async with TurnInbox(bot_id=BOT_ID, layer=layer) as inbox:
        reading = asyncio.ensure_future(inbox.next_turn())
        await asyncio.sleep(0.2)
        assert not reading.done()
        sent = await hand_over(channel_id="c-live")
        turn = await asyncio.wait_for(reading, timeout=5)

    assert (turn.trigger_id, turn.channel_id) == (sent, "c-live")


async def test_two_processes_listening_for_one_bot_take_each_turn_once(layer):
    async with TurnInbox(bot_id=BOT_ID, layer=layer) as first, TurnInbox(bot_id=BOT_ID, layer=layer) as second:
        readers = [asyncio.ensure_future(first.next_turn()), asyncio.ensure_future(second.next_turn())]
        await asyncio.sleep(0.2)
        sent = await hand_over()
        done, pending = await asyncio.wait(readers, timeout=1.0)
        for reader in pending:
            reader.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    assert [task.result().trigger_id for task in done] == [sent]
    assert len(pending) == 1


async def test_an_expired_turn_is_not_taken(layer):
    await hand_over(expires_in=-1)

    async with TurnInbox(bot_id=BOT_ID, layer=layer) as inbox:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(inbox.next_turn(), timeout=0.5)


async def test_another_bots_turns_are_not_taken(layer):
    await hand_over()

    async with TurnInbox(bot_id=BOT_ID + 1, layer=layer) as inbox:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(inbox.next_turn(), timeout=0.5)


async def test_a_lost_announcement_is_found_when_the_inbox_renews_its_membership(layer):
    async with TurnInbox(bot_id=BOT_ID, layer=layer, renew_seconds=0.3) as inbox:
        reading = asyncio.ensure_future(inbox.next_turn())
        await asyncio.sleep(0.1)
        # Written without its announcement (as if Redis lost it): only the renewal's sweep can find it.
        trigger = await Trigger.objects.acreate(kind="bots.speculative", due_at=timezone.now())
        turn = ScheduledTurn(
            trigger_id=trigger.pk,
            bot_id=BOT_ID,
            guild_id="g",
            channel_id="c",
            trigger_kind="speculative",
            seed=1,
            expires_at=timezone.now() + timedelta(minutes=1),
        )
        await Delivery.objects.acreate(
            trigger=trigger,
            recipient=recipient_for(BOT_ID),
            kind=TURN_DELIVERY,
            payload=turn.as_payload(),
            expires_at=turn.expires_at,
        )
        taken = await asyncio.wait_for(reading, timeout=5)

    assert taken.trigger_id == trigger.pk


async def test_finishing_a_turn_records_its_decision_on_the_delivery(layer):
    waiting = await hand_over()

    async with TurnInbox(bot_id=BOT_ID, layer=layer) as inbox:
        turn = await asyncio.wait_for(inbox.next_turn(), timeout=5)
        await inbox.finish(turn, decision_id=7, end="spoke")

    delivery = await Delivery.objects.aget(pk=waiting)
    assert (delivery.status, delivery.outcome) == (DeliveryStatus.DONE, {"decision_id": 7, "end": "spoke"})
